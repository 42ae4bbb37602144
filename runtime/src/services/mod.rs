//! Config blocks that configure the agent rather than run as components: `logging` (the
//! process logger), `http` (the HTTP server's TLS and authentication) and `livedebugging`
//! (whether debug streams may watch components). Each registers
//! like a component (`Registration::config`), with its typed arguments and an `apply`
//! function the controller calls on every evaluation, and with `None` when the block is
//! removed. Blocks the runtime does not run yet (`tracing`, `remotecfg`, `labelstore`) are
//! refused by the controller's lowering (`runtime/src/controller/graph.rs`).

pub mod http;
pub mod livedebugging;
pub mod logging;
