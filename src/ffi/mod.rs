//! The C ABI: `extern "C"` functions over [`crate::net`], generated into `include/wskit.h`.
//!
//! This layer only translates: C pointers and ids to Rust references and ids, `net::Error` to
//! `wskit_status`, `net::Handler` calls to C callbacks or queued events (`bridge.rs`). Rules every
//! function follows (see README "C API conventions", CONTRIBUTING.md and docs/api-0.2.md):
//! - it is declared with `ffi_fn!` (no_mangle + panic boundary; a panic returns
//!   `WSKIT_ERR_PANIC`, NULL, or nothing);
//! - its name is `wskit_<object>_<verb>`;
//! - a required pointer that is NULL gives `WSKIT_ERR_NULL_ARG`; frees accept NULL;
//! - string arguments are `ptr, len` (`WSKIT_NTS`: NUL-terminated); strings handed out are
//!   `const char **out, size_t *out_len` and NUL-terminated too;
//! - out-parameters are written only on `WSKIT_OK`; the last error's text is kept per thread
//!   (`wskit_error_last`);
//! - every `unsafe` block says why it is sound in a `// SAFETY:` line.

#![allow(non_camel_case_types)] // C names: wskit_ctx, wskit_status, ...

/// `WSKIT_NTS`: a string length meaning "NUL-terminated, measure it".
pub(crate) const WSKIT_NTS: usize = usize::MAX;

#[macro_use]
pub(crate) mod macros;
pub mod accept;
pub(crate) mod bridge;
pub mod broadcast;
pub mod callbacks;
pub mod config;
pub mod conn;
pub mod ctx;
pub mod deflate;
pub mod event;
pub mod http;
pub mod proxy;
pub mod queue;
pub mod reconnect;
pub mod remote;
pub mod send_batch;
pub mod stats;
pub mod status;
pub mod trace;
pub mod unix;
pub mod version;

pub use config::wskit_config;
pub use ctx::wskit_ctx;
pub use deflate::wskit_deflate_params;
pub use event::{wskit_event, wskit_event_kind, wskit_header};
pub use queue::{wskit_queue_flag, wskit_queue_stats};
pub use reconnect::{wskit_reconnect_state, wskit_undelivered_reason};
pub use remote::wskit_remote;
pub use send_batch::wskit_send;
pub use stats::wskit_stats;
pub use status::wskit_status;
pub use trace::{wskit_trace, wskit_trace_kind};
