//! The pages of the datastores' sidecars: postgres-exporter (`pg_up`, connections, database
//! size) and redis_exporter (`redis_up`, clients, memory, commands), following the World's
//! `DependencyDown` faults on the datastore, plus the exporters' own process metrics.

use super::expo::{Expo, Format};
use super::maths::between;
use super::metrics::{SCRAPE_RATE, process};
use super::model::Instance;
use super::profile::Kind;

/// Scrapes of a sidecar exporter since it started.
fn scrapes(inst: &Instance<'_>, t: f64) -> f64 {
    ((t - inst.listen_at).max(0.0) * SCRAPE_RATE).floor()
}

/// Seconds the datastore served over `[start, t)`: its up time outside down windows.
pub fn up_seconds(inst: &Instance<'_>, t: f64) -> f64 {
    let from = inst.ready_at.min(t);
    let down: f64 = inst
        .down
        .iter()
        .map(|w| (w.until.min(t) - w.from.max(from)).max(0.0))
        .sum();
    (t - from - down).max(0.0)
}

/// Clients connected to the datastore at `t`: a pool per app instance that uses it.
pub fn clients(inst: &Instance<'_>, t: f64) -> f64 {
    let base = between(inst.app_hash, 8.0, 30.0);
    (base * inst.level(t)).round()
}

/// The postgres-exporter or redis_exporter page of a datastore pod's sidecar at `t`.
pub fn page(inst: &Instance<'_>, t: f64, format: Format) -> String {
    let mut e = Expo::new(format);
    let up = !inst.self_down(t);
    let served = up_seconds(inst, t);
    match inst.profile.kind {
        Kind::Redis => redis(&mut e, inst, t, up, served),
        _ => postgres(&mut e, inst, t, up, served),
    }
    let n = scrapes(inst, t);
    e.counter(
        "promhttp_metric_handler_requests",
        "Total number of scrapes by HTTP status code.",
        &[(&[("code", "200")], n)],
    );
    process(&mut e, n * 0.004, 18.0 * 1024.0 * 1024.0, inst.start, 9.0);
    e.finish()
}

fn postgres(e: &mut Expo, inst: &Instance<'_>, t: f64, up: bool, served: f64) {
    e.gauge(
        "pg_up",
        "Whether the last scrape of metrics from PostgreSQL was able to connect to the server (1 for yes, 0 for no).",
        &[(&[], if up { 1.0 } else { 0.0 })],
    );
    e.gauge(
        "pg_exporter_last_scrape_error",
        "Whether the last scrape of metrics from PostgreSQL resulted in an error (1 for error, 0 for success).",
        &[(&[], if up { 0.0 } else { 1.0 })],
    );
    e.counter(
        "pg_exporter_scrapes",
        "Total number of times PostgreSQL was scraped for metrics.",
        &[(&[], scrapes(inst, t))],
    );
    if !up {
        return;
    }
    let db = inst.app;
    e.gauge(
        "pg_settings_max_connections",
        "Sets the maximum number of concurrent connections.",
        &[(&[], 100.0)],
    );
    let clients = clients(inst, t);
    e.gauge(
        "pg_stat_database_numbackends",
        "Number of backends currently connected to this database.",
        &[(&[("datid", "16384"), ("datname", db)], clients)],
    );
    let size = 180.0 * 1024.0 * 1024.0 + served * 2_048.0;
    e.gauge(
        "pg_database_size_bytes",
        "Disk space used by the database.",
        &[(&[("datname", db)], size.round())],
    );
}

fn redis(e: &mut Expo, inst: &Instance<'_>, t: f64, up: bool, served: f64) {
    e.gauge(
        "redis_up",
        "Information about the Redis instance.",
        &[(&[], if up { 1.0 } else { 0.0 })],
    );
    if !up {
        return;
    }
    e.gauge(
        "redis_connected_clients",
        "connected_clients metric.",
        &[(&[], clients(inst, t))],
    );
    e.gauge(
        "redis_memory_used_bytes",
        "memory_used_bytes metric.",
        &[(&[], inst.memory(t).round())],
    );
    e.gauge(
        "redis_memory_max_bytes",
        "memory_max_bytes metric.",
        &[(&[], inst.tuned.limit.round())],
    );
    let commands = (inst.tuned.rps * served).floor();
    e.counter(
        "redis_commands_processed",
        "commands_processed_total metric.",
        &[(&[], commands)],
    );
    e.counter(
        "redis_keyspace_hits",
        "keyspace_hits_total metric.",
        &[(&[], (commands * 0.62).floor())],
    );
    e.counter(
        "redis_keyspace_misses",
        "keyspace_misses_total metric.",
        &[(&[], (commands * 0.08).floor())],
    );
    e.gauge(
        "redis_uptime_in_seconds",
        "uptime_in_seconds metric.",
        &[(&[], (t - inst.start).max(0.0).floor())],
    );
}
