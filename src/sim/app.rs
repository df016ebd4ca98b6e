//! The simulated workloads: what a container answers over HTTP, when it exits, what it logs.
//!
//! Pods are data, not tasks: an [`App`] is a pure function of the container instance (a
//! [`PodView`]), the simulated time and the seed. The kubelet's probes, the pod/service proxy and
//! `pods/log` all ask the same app, so a pod answers its probes exactly what it answers a human.

use std::borrow::Cow;
use std::collections::BTreeMap;

use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};

mod default;
mod expo;
mod exporter;
mod health;
mod logs;
mod maths;
mod metrics;
mod model;
pub mod profile;
mod routes;
mod seeded;
mod store;
#[cfg(test)]
mod testing;
mod tuned;

pub use default::DefaultApp;
pub use seeded::FleetApp;

/// One container instance as the app sees it.
#[derive(Clone, Copy, Debug)]
pub struct PodView<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub uid: &'a str,
    pub labels: &'a BTreeMap<String, String>,
    pub annotations: &'a BTreeMap<String, String>,
    pub container: &'a str,
    pub image: &'a str,
    /// When this instance of the container started.
    pub started_at: Timestamp,
    /// 0 for the first instance, n after n restarts (the status' restartCount while it ran).
    pub restart_count: i32,
    /// How this instance ended, once it has (so its logs can end with the shutdown or crash).
    pub ended: Option<(Timestamp, Exit)>,
    /// The cluster's seed: the same seed gives the same fleet behaviour.
    pub seed: u64,
}

/// Labels and annotations of a pod that has none.
static EMPTY: BTreeMap<String, String> = BTreeMap::new();

impl<'a> PodView<'a> {
    /// The view of one container instance of `pod`.
    pub fn of(
        pod: &'a k8s_openapi::api::core::v1::Pod,
        container: &'a str,
        image: &'a str,
        started_at: Timestamp,
        restart_count: i32,
        seed: u64,
    ) -> Self {
        let m = &pod.metadata;
        Self {
            namespace: m.namespace.as_deref().unwrap_or(""),
            name: m.name.as_deref().unwrap_or(""),
            uid: m.uid.as_deref().unwrap_or(""),
            labels: m.labels.as_ref().unwrap_or(&EMPTY),
            annotations: m.annotations.as_ref().unwrap_or(&EMPTY),
            container,
            image,
            started_at,
            restart_count,
            ended: None,
            seed,
        }
    }
}

impl PodView<'_> {
    /// A number fixed for this container instance and `salt`, different for every instance.
    pub fn hash(&self, salt: u64) -> u64 {
        stable_hash(
            self.seed ^ salt,
            &[
                self.uid.as_bytes(),
                self.container.as_bytes(),
                &self.restart_count.to_le_bytes(),
            ],
        )
    }

    /// The image tag (`web:2.5.0-oom` gives `2.5.0-oom`; no tag gives `latest`).
    pub fn tag(&self) -> &str {
        image_tag(self.image)
    }

    /// How long this instance has been up at `now`.
    pub fn uptime(&self, now: Timestamp) -> SignedDuration {
        now.duration_since(self.started_at)
    }
}

/// The tag of an image reference, ignoring a registry port and any digest.
pub fn image_tag(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, tag)) if !tag.is_empty() => tag,
        _ => "latest",
    }
}

/// The repository of an image reference: the image without its tag or digest
/// (`registry:5000/team/web:2.5.0-oom` gives `registry:5000/team/web`).
pub fn image_repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].rfind(':') {
        Some(colon) => &image[..slash + colon],
        None => image,
    }
}

/// One HTTP request to a container port, from a probe or through the API server's proxy.
#[derive(Clone, Copy, Debug)]
pub struct AppRequest<'a> {
    pub method: &'a http::Method,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
    pub port: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppResponse {
    pub status: u16,
    pub content_type: Cow<'static, str>,
    pub body: Bytes,
    /// How long the app took to answer: a probe whose timeoutSeconds is shorter fails.
    pub latency: SignedDuration,
}

impl AppResponse {
    pub fn text(status: u16, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            content_type: Cow::Borrowed("text/plain; charset=utf-8"),
            body: body.into(),
            latency: SignedDuration::from_millis(2),
        }
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self {
            content_type: Cow::Borrowed("application/json"),
            ..Self::text(status, serde_json::to_vec(value).unwrap_or_default())
        }
    }
}

/// Why a connection to the container got no HTTP answer at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreachable {
    /// Nothing listens on the port (yet).
    Refused,
    /// The app accepted but never answered.
    Timeout,
}

/// How a container instance ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit {
    pub code: i32,
    pub reason: ExitReason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitReason {
    Completed,
    Error,
    OomKilled,
}

impl ExitReason {
    /// The container status' `terminated.reason`, as containerd reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            ExitReason::Completed => "Completed",
            ExitReason::Error => "Error",
            ExitReason::OomKilled => "OOMKilled",
        }
    }

    pub fn parse(reason: &str) -> Self {
        match reason {
            "Completed" => ExitReason::Completed,
            "OOMKilled" => ExitReason::OomKilled,
            _ => ExitReason::Error,
        }
    }
}

impl Exit {
    /// An exit with the reason the runtime derives from the code alone.
    pub fn code(code: i32) -> Self {
        let reason = if code == 0 {
            ExitReason::Completed
        } else {
            ExitReason::Error
        };
        Self { code, reason }
    }

    pub fn oom_killed() -> Self {
        Self {
            code: 137,
            reason: ExitReason::OomKilled,
        }
    }

    /// Killed with SIGKILL after ignoring SIGTERM for the whole grace period.
    pub fn sigkilled() -> Self {
        Self::code(137)
    }
}

/// The result of an `exec` probe command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecResult {
    pub code: i32,
    pub output: String,
}

/// One line the container wrote, without its trailing newline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    pub at: Timestamp,
    pub text: String,
}

/// A simulated workload. Every answer must be a function of its arguments (and the app's own
/// configuration) so that the fleet is reproducible per seed and cheap at 10,000 pods.
pub trait App: Send + Sync + 'static {
    /// Answers one HTTP request to the container at `now`.
    fn http(
        &self,
        pod: &PodView<'_>,
        req: &AppRequest<'_>,
        now: Timestamp,
    ) -> Result<AppResponse, Unreachable>;

    /// When this instance will exit on its own, as far as is known at `now` (None: it runs on).
    /// The kubelet asks at start and again at every probe and periodic re-check, so an answer may
    /// change as the app's world changes.
    fn next_exit(&self, _pod: &PodView<'_>, _now: Timestamp) -> Option<(Timestamp, Exit)> {
        None
    }

    /// How the instance ends when sent SIGTERM at `now`. [`Exit::sigkilled`] means it ignored the
    /// signal, so stopping it takes the whole grace period.
    fn on_sigterm(&self, _pod: &PodView<'_>, _now: Timestamp) -> Exit {
        Exit::code(0)
    }

    /// Whether a TCP connection to `port` is accepted (tcpSocket and gRPC probes).
    fn tcp(&self, _pod: &PodView<'_>, _port: u16, _now: Timestamp) -> bool {
        true
    }

    /// Runs an exec probe command in the container.
    fn exec(&self, _pod: &PodView<'_>, _command: &[String], _now: Timestamp) -> ExecResult {
        ExecResult {
            code: 0,
            output: String::new(),
        }
    }

    /// Appends the lines this instance wrote in `[from, to)`, oldest first. Called lazily for any
    /// window, so it must compute lines rather than remember them.
    fn log_lines(
        &self,
        _pod: &PodView<'_>,
        _from: Timestamp,
        _to: Timestamp,
        _out: &mut Vec<LogLine>,
    ) {
    }

    /// CPU in use by the instance at `now`, in millicores (what metrics-server would report).
    fn cpu_millicores(&self, _pod: &PodView<'_>, _now: Timestamp) -> f64 {
        0.0
    }
}

/// A stable 64-bit hash of `parts` (FNV-1a with a splitmix64 finaliser): unlike std's hasher it is
/// fixed across Rust releases, so a seed means the same fleet tomorrow.
pub fn stable_hash(seed: u64, parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // Separate parts so ("ab", "c") and ("a", "bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    splitmix(h)
}

/// The splitmix64 finaliser: spreads every input bit over the output.
pub fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A value in `[lo, hi)` drawn from `h`.
pub fn pick(h: u64, lo: i64, hi: i64) -> i64 {
    if hi <= lo {
        return lo;
    }
    lo + (h % (hi - lo) as u64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_hashes() {
        assert_eq!(image_tag("nginx"), "latest");
        assert_eq!(image_tag("registry:5000/team/web:2.5.0-oom"), "2.5.0-oom");
        assert_eq!(image_tag("registry:5000/team/web"), "latest");
        assert_eq!(image_tag("web:1@sha256:abc"), "1");
        assert_eq!(
            image_repository("registry:5000/team/web:2.5.0-oom"),
            "registry:5000/team/web"
        );
        assert_eq!(
            image_repository("registry:5000/team/web"),
            "registry:5000/team/web"
        );
        assert_eq!(
            image_repository("ghcr.io/arq/arq-backend@sha256:ab"),
            "ghcr.io/arq/arq-backend"
        );
        assert_eq!(image_repository("postgres:16"), "postgres");
        assert_ne!(
            stable_hash(1, &[b"ab", b"c"]),
            stable_hash(1, &[b"a", b"bc"])
        );
        assert_eq!(stable_hash(7, &[b"x"]), stable_hash(7, &[b"x"]));
        assert_ne!(stable_hash(7, &[b"x"]), stable_hash(8, &[b"x"]));
        assert_eq!(Exit::code(1).reason.as_str(), "Error");
        assert_eq!(Exit::oom_killed().reason.as_str(), "OOMKilled");
    }
}
