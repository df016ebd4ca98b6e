//! The fake container runtime behind the kubelet: containerd-style IDs, image names and digests,
//! pull times, node images and pod IP allocation. Everything is derived from the seed, so a
//! cluster replays identically.

use std::collections::{HashMap, HashSet};

use jiff::SignedDuration;
use k8s_openapi::api::core::v1::{Container, ContainerStatus, Node, Pod};

use crate::sim::app::{pick, stable_hash};

/// `containerd://` and 64 hex digits, fixed per container instance.
pub fn container_id(seed: u64, uid: &str, container: &str, attempt: i32) -> String {
    let parts: [&[u8]; 3] = [uid.as_bytes(), container.as_bytes(), &attempt.to_le_bytes()];
    format!("containerd://{}", hex64(seed, &parts))
}

fn hex64(seed: u64, parts: &[&[u8]]) -> String {
    (0..4u64)
        .map(|i| {
            format!(
                "{:016x}",
                stable_hash(seed ^ i.wrapping_mul(0x51_7cc1), parts)
            )
        })
        .collect()
}

/// The fully qualified reference containerd reports in `status.image`: `nginx:1.27` becomes
/// `docker.io/library/nginx:1.27`, and an image without tag or digest gets `:latest`.
pub fn normalize_image(image: &str) -> String {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let first = name.split('/').next().unwrap_or("");
    let has_registry =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut full = match (has_registry, name.contains('/')) {
        (true, _) => name.to_string(),
        (false, true) => format!("docker.io/{name}"),
        (false, false) => format!("docker.io/library/{name}"),
    };
    let last = full.rsplit('/').next().unwrap_or("");
    if !last.contains(':') && digest.is_none() {
        full.push_str(":latest");
    }
    if let Some(d) = digest {
        full.push('@');
        full.push_str(d);
    }
    full
}

/// `status.imageID`: the repository and the digest the image resolved to.
pub fn image_id(image: &str) -> String {
    let full = normalize_image(image);
    let repo_end = full.rfind('@').unwrap_or_else(|| {
        let slash = full.rfind('/').unwrap_or(0);
        full[slash..].rfind(':').map_or(full.len(), |i| slash + i)
    });
    let repo = &full[..repo_end];
    if let Some((_, digest)) = full.split_once('@') {
        return format!("{repo}@{digest}");
    }
    format!("{repo}@sha256:{}", hex64(0, &[full.as_bytes()]))
}

/// The image's size in bytes (what the Pulled event reports), fixed per image.
pub fn image_size(image: &str) -> u64 {
    pick(stable_hash(1, &[image.as_bytes()]), 8_000_000, 240_000_000) as u64
}

/// How long pulling takes this time (the kubelet reports it in the Pulled event).
pub fn pull_time(seed: u64, uid: &str, container: &str, attempt: i32) -> SignedDuration {
    let h = stable_hash(
        seed ^ 0x9011,
        &[uid.as_bytes(), container.as_bytes(), &attempt.to_le_bytes()],
    );
    SignedDuration::from_millis(pick(h, 700, 2_800))
}

/// `IfNotPresent` unless the spec says otherwise, or `Always` for `:latest` and untagged images,
/// as the API server defaults `imagePullPolicy`.
pub fn pull_always(container: &Container) -> bool {
    match container.image_pull_policy.as_deref() {
        Some("Always") => true,
        Some(_) => false,
        None => {
            let image = container.image.as_deref().unwrap_or("");
            !image.contains('@') && crate::sim::app::image_tag(image) == "latest"
        }
    }
}

/// Go's `time.Duration.String()` for whole milliseconds: `313ms`, `1.594s`, `1m20s`, `5m0s`.
pub fn go_duration(d: SignedDuration) -> String {
    let ms = d.as_millis().max(0);
    if ms == 0 {
        return "0s".to_string();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (h, m, s, frac) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    let secs = if frac == 0 {
        format!("{s}s")
    } else {
        format!("{s}.{}s", format!("{frac:03}").trim_end_matches('0'))
    };
    match (h, m) {
        (0, 0) => secs,
        (0, m) => format!("{m}m{secs}"),
        (h, m) => format!("{h}h{m}m{secs}"),
    }
}

/// `format.Pod`: `name_namespace(uid)`, as kubelet messages name pods.
/// The status of container `name` and when its running instance started; None unless running.
pub fn running_since<'a>(
    pod: &'a Pod,
    name: &str,
) -> Option<(&'a ContainerStatus, jiff::Timestamp)> {
    let status = pod
        .status
        .as_ref()?
        .container_statuses
        .as_deref()?
        .iter()
        .find(|s| s.name == name)?;
    let started = status
        .state
        .as_ref()?
        .running
        .as_ref()?
        .started_at
        .as_ref()?
        .0;
    Some((status, started))
}

pub fn pod_ref(pod: &Pod) -> String {
    let m = &pod.metadata;
    format!(
        "{}_{}({})",
        m.name.as_deref().unwrap_or(""),
        m.namespace.as_deref().unwrap_or(""),
        m.uid.as_deref().unwrap_or("")
    )
}

/// Pod addresses on one node: `10.244.<node>.<n>` as kind's host-local IPAM hands them out,
/// spilling into `10.245.<node>.*` and on when a node runs more than a /24 holds.
#[derive(Debug, Default)]
pub struct IpPool {
    used: HashSet<u32>,
    next: u32,
}

/// How many addresses a node hands out before it wraps around (8 × 253).
const POOL_SIZE: u32 = 2024;

impl IpPool {
    pub fn allocate(&mut self) -> u32 {
        for _ in 0..POOL_SIZE {
            let slot = self.next;
            self.next = (self.next + 1) % POOL_SIZE;
            if self.used.insert(slot) {
                return slot;
            }
        }
        // Every address is taken: share one rather than fail, the simulator has no network.
        self.next
    }

    pub fn release(&mut self, slot: u32) {
        self.used.remove(&slot);
    }
}

/// What the kubelet knows about a node it runs pods on.
#[derive(Debug)]
pub struct NodeRt {
    pub host_ip: String,
    /// The first three octets of the pod range, from `spec.podCIDR` or the node's index.
    subnet: (u32, u32),
    pub ips: IpPool,
    /// Images already pulled to this node: the next pod using one skips the pull.
    pub images: HashSet<String>,
}

impl NodeRt {
    pub fn new(index: u32, node: Option<&Node>) -> Self {
        let host_ip = node
            .and_then(|n| n.status.as_ref())
            .and_then(|s| s.addresses.as_ref())
            .and_then(|a| a.iter().find(|a| a.type_ == "InternalIP"))
            .map(|a| a.address.clone())
            .unwrap_or_else(|| format!("172.18.0.{}", 2 + index % 250));
        let subnet = node
            .and_then(|n| n.spec.as_ref())
            .and_then(|s| s.pod_cidr.as_deref())
            .and_then(|cidr| {
                let mut o = cidr.split(['.', '/']).map(|p| p.parse::<u32>().ok());
                Some((o.next()??, o.next()??, o.next()??))
            })
            .map_or((244, index % 256), |(_, b, c)| (b, c));
        Self {
            host_ip,
            subnet,
            ips: IpPool::default(),
            images: HashSet::new(),
        }
    }

    pub fn pod_ip(&self, slot: u32) -> String {
        let (b, c) = self.subnet;
        format!("10.{}.{c}.{}", b + slot / 253, 2 + slot % 253)
    }
}

/// Node runtimes by name, indexed in the order the kubelet first meets them.
#[derive(Debug, Default)]
pub struct Nodes {
    nodes: HashMap<String, NodeRt>,
}

impl Nodes {
    pub fn get_or_add(&mut self, name: &str, node: Option<&Node>) -> &mut NodeRt {
        let index = self.nodes.len() as u32 + 1;
        self.nodes
            .entry(name.to_string())
            .or_insert_with(|| NodeRt::new(index, node))
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut NodeRt> {
        self.nodes.get_mut(name)
    }
}

/// `status.qosClass`, computed as the API server does on create.
pub fn qos_class(pod: &Pod) -> &'static str {
    let containers = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or(&[]);
    let mut any = false;
    let mut guaranteed = !containers.is_empty();
    for c in containers {
        let res = c.resources.as_ref();
        let requests = res.and_then(|r| r.requests.as_ref());
        let limits = res.and_then(|r| r.limits.as_ref());
        any |= requests.is_some_and(|r| !r.is_empty()) || limits.is_some_and(|l| !l.is_empty());
        for key in ["cpu", "memory"] {
            let limit = limits.and_then(|l| l.get(key));
            let request = requests.and_then(|r| r.get(key)).or(limit);
            if limit.is_none() || request.map(|q| &q.0) != limit.map(|q| &q.0) {
                guaranteed = false;
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

/// A CPU quantity in millicores (`250m`, `0.5`, `2`); None when malformed.
pub fn cpu_millis(q: &str) -> Option<f64> {
    crate::sim::quantity::value(q.trim()).map(|cores| cores * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_and_ids() {
        assert_eq!(
            normalize_image("nginx:1.27"),
            "docker.io/library/nginx:1.27"
        );
        assert_eq!(normalize_image("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(normalize_image("team/web:2"), "docker.io/team/web:2");
        assert_eq!(
            normalize_image("registry:5000/web"),
            "registry:5000/web:latest"
        );
        assert_eq!(normalize_image("ghcr.io/a/b:1"), "ghcr.io/a/b:1");
        let id = image_id("nginx:1.27");
        assert!(
            id.starts_with("docker.io/library/nginx@sha256:") && id.len() == 31 + 64,
            "{id}"
        );
        let cid = container_id(1, "u", "app", 0);
        assert_eq!(cid.len(), "containerd://".len() + 64);
        assert_ne!(cid, container_id(1, "u", "app", 1));
    }

    #[test]
    fn go_durations() {
        let ms = SignedDuration::from_millis;
        assert_eq!(go_duration(ms(313)), "313ms");
        assert_eq!(go_duration(ms(1594)), "1.594s");
        assert_eq!(go_duration(ms(1500)), "1.5s");
        assert_eq!(go_duration(ms(10_000)), "10s");
        assert_eq!(go_duration(ms(80_000)), "1m20s");
        assert_eq!(go_duration(ms(300_000)), "5m0s");
    }

    #[test]
    fn ip_pool_reuses_released_slots_last() {
        let node = NodeRt::new(3, None);
        let mut pool = IpPool::default();
        let a = pool.allocate();
        let b = pool.allocate();
        assert_eq!(
            (node.pod_ip(a).as_str(), node.pod_ip(b).as_str()),
            ("10.244.3.2", "10.244.3.3")
        );
        pool.release(a);
        assert_eq!(
            pool.allocate(),
            2,
            "host-local IPAM moves on before reusing"
        );
        assert_eq!(node.pod_ip(253), "10.245.3.2");
        assert_eq!(cpu_millis("250m"), Some(250.0));
        assert_eq!(cpu_millis("1.5"), Some(1500.0));
    }
}
