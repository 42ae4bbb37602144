//! The agent's UDP servers: each datagram is one Thrift `Agent.emitBatch` message, compact
//! (port 6831) or binary (6832). As upstream's agent does, datagrams wait in a queue of
//! `queue_size` (a full queue drops them, counted in
//! `otelcol_receiver_dropped_packets_total`) and `workers` of them are decoded and delivered
//! at a time. A datagram longer than `max_packet_size` arrives cut short and fails to
//! decode. UDP has nobody to answer, so a packet that does not decode or that the pipeline
//! refuses is counted and logged at debug level.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

use super::thrift::{Binary, Compact};
use super::{thrift_batch, Transport, UdpConfig};
use crate::component::{BoxFuture, ComponentError, Context};
use crate::metrics::Counter;
use crate::otelcol::receiver::otlp::parse_endpoint;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Compact,
    Binary,
}

fn decode(encoding: Encoding, packet: &[u8]) -> Result<super::model::Batch, super::thrift::ThriftError> {
    match encoding {
        Encoding::Compact => thrift_batch::agent_message(&mut Compact::new(packet)),
        Encoding::Binary => thrift_batch::agent_message(&mut Binary::new(packet)),
    }
}

/// Decodes and delivers one datagram.
async fn process(id: &str, encoding: Encoding, transport: &Transport, packet: Vec<u8>) {
    let result = match decode(encoding, &packet) {
        Ok(batch) => transport.deliver(vec![batch], None).await.map_err(|e| e.to_string()),
        Err(e) => Err(transport.malformed(format!("malformed {encoding:?} Thrift packet: {e}"))),
    };
    if let Err(e) = result {
        crate::component::log(id, tracing::Level::DEBUG, &format!("Jaeger agent packet refused: {e}"));
    }
}

/// The counter of packets dropped on a full queue, for one encoding's port.
pub fn dropped_counter(ctx: &Context, encoding: Encoding) -> Counter {
    let transport_name = match encoding {
        Encoding::Compact => "udp_thrift_compact",
        Encoding::Binary => "udp_thrift_binary",
    };
    ctx.counter(
        "otelcol_receiver_dropped_packets",
        "UDP packets dropped because the receiver's queue was full",
        &[("receiver", "jaeger"), ("transport", transport_name)],
    )
}

/// Binds the socket and returns its address and the serving future.
pub async fn serve(
    ctx: &Context,
    config: UdpConfig,
    encoding: Encoding,
    dropped: Counter,
    transport: Arc<Transport>,
    stop: CancellationToken,
) -> Result<(SocketAddr, BoxFuture<Result<(), ComponentError>>), ComponentError> {
    let addr = parse_endpoint(&config.endpoint)?;
    let socket = UdpSocket::bind(addr).await.map_err(|e| ComponentError(format!("failed to listen on UDP {addr} for Jaeger {encoding:?} Thrift: {e}")))?;
    let local = socket.local_addr()?;
    let id = ctx.id().to_string();
    Ok((local, Box::pin(run(socket, config, encoding, transport, dropped, id, stop))))
}

async fn run(
    socket: UdpSocket,
    config: UdpConfig,
    encoding: Encoding,
    transport: Arc<Transport>,
    dropped: Counter,
    id: String,
    stop: CancellationToken,
) -> Result<(), ComponentError> {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(config.queue_size.max(1));
    let workers = Arc::new(Semaphore::new(config.workers.max(1)));
    let dispatch = {
        let stop = stop.clone();
        async move {
            loop {
                let packet = tokio::select! {
                    _ = stop.cancelled() => return,
                    p = rx.recv() => match p { Some(p) => p, None => return },
                };
                let Ok(permit) = workers.clone().acquire_owned().await else { return };
                let (transport, id) = (transport.clone(), id.clone());
                tokio::spawn(async move {
                    process(&id, encoding, &transport, packet).await;
                    drop(permit);
                });
            }
        }
    };
    let dispatcher = tokio::spawn(dispatch);
    let mut buf = vec![0u8; config.max_packet_size];
    let result = loop {
        let n = tokio::select! {
            _ = stop.cancelled() => break Ok(()),
            r = socket.recv(&mut buf) => match r {
                Ok(n) => n,
                Err(e) => break Err(ComponentError(format!("Jaeger UDP server failed: {e}"))),
            },
        };
        if tx.try_send(buf[..n].to_vec()).is_err() {
            dropped.add(1);
        }
    };
    drop(tx);
    let _ = dispatcher.await;
    result
}
