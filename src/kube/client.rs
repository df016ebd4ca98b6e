//! One kube client per kubeconfig context, with timeouts chosen so a dead cluster fails fast
//! while a quiet watch is left alone.

use std::time::Duration;

use ::kube::config::{KubeConfigOptions, Kubeconfig};
use ::kube::{Client, Config};

/// Connecting to a dead cluster gives up after this long; its watchers then back off and retry.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The server ends each watch after this many seconds and the watcher re-watches from the last
/// resourceVersion (no relist). Shorter than kube-runtime's 290 s default so a connection that
/// died without a word (a cluster that vanished, a NAT that forgot us) is noticed in about a
/// minute: kube-runtime gives up on a watch that stays silent 5 s longer than this.
pub const WATCH_TIMEOUT_SECS: u32 = 60;

/// No read may wait longer than this. It must exceed the longest silence of a healthy watch
/// (`WATCH_TIMEOUT_SECS` plus kube-runtime's 5 s margin), or quiet watches would fail.
pub const READ_TIMEOUT: Duration = Duration::from_secs(WATCH_TIMEOUT_SECS as u64 + 15);

/// Sending a request should never take long; a stalled write means a dead connection.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(15);

/// The configuration of one kubeconfig context, with the console's timeouts applied.
pub async fn client_config(kubeconfig: &Kubeconfig, context: &str) -> Result<Config, String> {
    let opts = KubeConfigOptions {
        context: Some(context.to_string()),
        ..Default::default()
    };
    let mut config = Config::from_custom_kubeconfig(kubeconfig.clone(), &opts)
        .await
        .map_err(|e| format!("context {context}: {e}"))?;
    apply_timeouts(&mut config);
    Ok(config)
}

/// Sets the connect, read and write timeouts (see the constants for why each is what it is).
pub fn apply_timeouts(config: &mut Config) {
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
    config.write_timeout = Some(WRITE_TIMEOUT);
    // Without this, time a pooled connection spent idle would count against the next read.
    config.reset_reader_on_write = true;
}

/// A client for `config` (timeouts applied). Must run inside a tokio runtime.
pub fn client(mut config: Config) -> Result<Client, String> {
    apply_timeouts(&mut config);
    Client::try_from(config).map_err(|e| format!("cannot make a client: {e}"))
}
