//! The `watchfloor` binary: parse the command line, install error reporting, dispatch.

use std::path::Path;
use std::sync::Arc;

use clap::Parser;
use color_eyre::eyre::Result;
use watchfloor::app::console::{self, Console};
use watchfloor::app::status;
use watchfloor::cli::{
    Cli, Command, ConfigCommand, DemoArgs, GlobalArgs, RulesCommand, ScrapeArgs, ScrapeOutput,
    StatusOutput,
};
use watchfloor::config::{self, commands::Options, theme::ColorDepth};
use watchfloor::sim::{demo, fleet::FleetOptions, timeline};

// glibc's per-thread arenas left the 10,000-pod demo at 1.7x its live heap; mimalloc keeps
// resident memory close to what is actually in use (see the README's benchmark table).
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Bad input (config, kubeconfig, fleet file): the message, no backtrace, exit status 2.
fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("watchfloor{what}: {e}");
    std::process::exit(2);
}

/// The console draws on a terminal; without one, say what to use instead.
fn need_terminal() {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        fail(
            "",
            "the console needs a terminal (stdin and stdout are not one); for scripts use `watchfloor status`, for a fleet without the console `watchfloor demo --headless`",
        );
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// Reads config, keymap, theme and kubeconfig and resolves the fleet, before any network call.
fn console_setup(opts: &Options<'_>) -> Console {
    let settings =
        config::commands::load_settings(opts, ColorDepth::detect()).unwrap_or_else(|e| fail("", e));
    let kubeconfig = config::kubeconfig::load(opts.kubeconfig).unwrap_or_else(|e| fail("", e));
    let layout = config::fleet::resolve(&settings.loaded.config, &kubeconfig, &opts.selection)
        .unwrap_or_else(|e| fail("", e));
    if layout.clusters.is_empty() {
        fail(
            "",
            "no cluster to watch: the kubeconfig has no current context; pass --context NAME or --all-contexts, or try `watchfloor demo`",
        );
    }
    let audit_log = config::paths::Paths::discover().map(|p| p.audit_log());
    Console {
        settings,
        layout,
        kubeconfig,
        audit_log,
        prometheus_compat: None,
    }
}

/// No transparent huge pages for this process. mimalloc asks for them, and each one touched counts
/// 2 MB in RSS: the console measured 130–146 MB at its first frame on 10,000 pods with them and
/// 98–124 MB without, for the same heap. On a shared jump host light matters more than the little
/// speed they buy. (The kernel's setting; a failure leaves things as they were.)
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> Result<()> {
    no_huge_pages();
    color_eyre::install()?;
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Demo(args)) => demo_command(args, &cli.global),
        Some(Command::Config(command)) => {
            let opts = cli.global.config_options();
            let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
            let status = match command {
                ConfigCommand::Check => config::commands::check(&opts, &mut out, &mut err)?,
                ConfigCommand::Paths => config::commands::paths(&opts, &mut out)?,
            };
            std::process::exit(status);
        }
        Some(Command::Status(args)) => {
            let setup = console_setup(&cli.global.config_options());
            let timeout = std::time::Duration::from_secs(args.timeout);
            let report = runtime()?.block_on(status::collect(&setup, timeout));
            let text = match args.output {
                StatusOutput::Table => report.table(),
                StatusOutput::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
            };
            emit(&text)?;
            std::process::exit(report.exit_code());
        }
        Some(Command::Scrape(args)) => {
            let status = runtime()?.block_on(scrape_command(&args, &cli.global))?;
            std::process::exit(status);
        }
        Some(Command::Rules(command)) => std::process::exit(rules_command(
            command,
            cli.global.prometheus_compat.unwrap_or_default(),
        )),
        None => {
            let mut setup = console_setup(&cli.global.config_options());
            setup.prometheus_compat = cli.global.prometheus_compat;
            need_terminal();
            runtime()?.block_on(console::run(setup))
        }
    }
}

/// `watchfloor scrape`: a URL needs no kubeconfig (a jump host may have none); a pod goes
/// through `--context` or the kubeconfig's current context.
async fn scrape_command(args: &ScrapeArgs, global: &GlobalArgs) -> Result<i32> {
    let opts = global.config_options();
    let settings = config::commands::load_settings(&opts, ColorDepth::detect())
        .unwrap_or_else(|e| fail("", e));
    let is_url = args.target.starts_with("http://") || args.target.starts_with("https://");
    let kube = if is_url {
        None
    } else {
        let loaded = config::kubeconfig::load(opts.kubeconfig).unwrap_or_else(|e| fail("", e));
        let context = global
            .contexts
            .first()
            .cloned()
            .or_else(|| loaded.kubeconfig.current_context.clone());
        Some(match context {
            Some(context) => watchfloor::kube::client::client_config(&loaded.kubeconfig, &context)
                .await
                .map(|c| (c, context)),
            None => Err("the kubeconfig has no current context: pass --context NAME".to_string()),
        })
    };
    let cmd = watchfloor::app::scrape_cmd::ScrapeCmd {
        target: &args.target,
        json: args.output == ScrapeOutput::Json,
        path: args.path.as_deref(),
        timeout: std::time::Duration::from_secs(args.timeout.max(1)),
        config: &settings.loaded.config.scraping,
        kube,
    };
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    match watchfloor::app::scrape_cmd::run(cmd, &mut out, &mut err).await {
        Ok(status) => Ok(status),
        // `watchfloor scrape … | head`: the reader has what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// `watchfloor rules test|check`: no configuration, no cluster; promtool's output and exit codes.
/// Lines go out as they are written (stdout is line-buffered) so a terminal shows each failure
/// under its file, as promtool's do; a reader that went away (`| head`) ends the output, not the
/// verdict.
fn rules_command(command: RulesCommand, compat: config::endpoints::PrometheusCompat) -> i32 {
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    match command {
        RulesCommand::Test(args) => {
            watchfloor::alerts::unittest::run(&args.files, compat, &mut out, &mut err)
        }
        RulesCommand::Check(args) => {
            watchfloor::alerts::rulefile::check_command(&args.files, &mut out)
        }
    }
}

/// Writes `text` to stdout; a reader that went away (`| head`) is not an error.
fn emit(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn demo_command(args: DemoArgs, global: &GlobalArgs) -> Result<()> {
    let spec = demo::DemoSpec {
        fleet: args.fleet,
        scenario: args.scenario,
        options: FleetOptions {
            seed: args.seed,
            speed: args.speed,
            extra_pods: args.pods,
            manual_start: None,
        },
        kubeconfig_out: args.kubeconfig_out,
    };
    // A bad fleet file is the user's to fix: say what is wrong, without a backtrace.
    let (file, scenario) = demo::prepare(&spec).unwrap_or_else(|e| fail(" demo", e));
    let runtime = runtime()?;
    if args.headless {
        runtime.block_on(demo::run_headless(spec, file, scenario))?;
        return Ok(());
    }
    need_terminal();
    runtime.block_on(async {
        let fleet = Arc::new(
            watchfloor::sim::fleet::start(&file, &spec.options)
                .await
                .unwrap_or_else(|e| fail(" demo", e)),
        );
        // Our own files (the kubeconfig holds tokens) live in a private directory removed on exit.
        let own = demo::default_kubeconfig_path();
        let dir = own.parent().map(Path::to_path_buf).unwrap_or_default();
        let kubeconfig = spec.kubeconfig_out.clone().unwrap_or(own);
        demo::write_kubeconfig(&fleet, &kubeconfig).unwrap_or_else(|e| fail(" demo", e));
        std::fs::create_dir_all(&dir)?;
        let config_path = dir.join("config.toml");
        std::fs::write(&config_path, demo::console_config(&file))?;
        // The seed fleet's rule files, which the console config names.
        demo::write_rules(&file, &dir)?;
        // The scenario plays while the console runs; what it does shows through the API only.
        let player = tokio::spawn(timeline::play(Arc::clone(&fleet), scenario, |_, _| {}));
        let mut opts = global.config_options();
        opts.config = Some(Path::new(&config_path));
        opts.kubeconfig = Some(Path::new(&kubeconfig));
        let mut setup = console_setup(&opts);
        setup.prometheus_compat = global.prometheus_compat;
        // What is done to the demo's clusters is not mixed into the real audit log, whose
        // context names (dev, prod-eastus) could be mistaken for real ones.
        setup.audit_log =
            config::paths::Paths::discover().map(|p| p.state_dir.join("demo-audit.log"));
        let result = console::run(setup).await;
        player.abort();
        drop(fleet);
        let _ = std::fs::remove_dir_all(&dir);
        result
    })
}
