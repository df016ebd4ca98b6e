//! The HTTP/1.1 listener of one simulated API server on loopback.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use super::api;
use super::cluster::Cluster;
use super::tls::SimTls;

/// A running API server. Dropping it (or calling [`ServerHandle::stop`]) closes the listener and
/// every open connection at once, which is what a client sees when a cluster becomes unreachable.
/// [`ServerHandle::resume`] binds the same address again: the cluster comes back where clients
/// (and the kubeconfig) expect it.
pub struct ServerHandle {
    pub addr: SocketAddr,
    cluster: Arc<Cluster>,
    tls: SimTls,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl ServerHandle {
    /// Binds `addr` (port 0 = an ephemeral port) and serves `cluster` on it.
    pub async fn start(
        cluster: Arc<Cluster>,
        addr: SocketAddr,
        tls: SimTls,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(accept_loop(
            listener,
            Arc::clone(&cluster),
            addr,
            tls.clone(),
        ));
        Ok(Self {
            addr,
            cluster,
            tls,
            task: Mutex::new(Some(task)),
        })
    }

    fn task(&self) -> std::sync::MutexGuard<'_, Option<JoinHandle<()>>> {
        self.task.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Closes the listener and every connection: new connections are refused until
    /// [`ServerHandle::resume`].
    pub fn stop(&self) {
        if let Some(task) = self.task().take() {
            task.abort();
        }
    }

    /// Whether the server is accepting connections.
    pub fn is_up(&self) -> bool {
        self.task().is_some()
    }

    /// Serves again on the same address after [`ServerHandle::stop`] (a no-op while up).
    pub async fn resume(&self) -> std::io::Result<()> {
        if self.is_up() {
            return Ok(());
        }
        let listener = TcpListener::bind(self.addr).await?;
        let task = tokio::spawn(accept_loop(
            listener,
            Arc::clone(&self.cluster),
            self.addr,
            self.tls.clone(),
        ));
        if let Some(old) = self.task().replace(task) {
            old.abort();
        }
        Ok(())
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn accept_loop(listener: TcpListener, cluster: Arc<Cluster>, addr: SocketAddr, tls: SimTls) {
    // Connections live in this set so that aborting the loop drops (and closes) all of them.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let cluster = Arc::clone(&cluster);
                let acceptor = tls.acceptor.clone();
                connections.spawn(async move {
                    // A failed handshake (a plain-HTTP client, a port scan) just closes that connection.
                    let Ok(stream) = acceptor.accept(stream).await else { return };
                    let service = service_fn(move |req| {
                        let cluster = Arc::clone(&cluster);
                        async move { Ok::<_, Infallible>(api::handle(cluster, addr, req).await) }
                    });
                    // A client that goes away mid-request is normal (watch and log streams end so).
                    let _ = http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
