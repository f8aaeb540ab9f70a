//! The C ABI: `extern "C"` functions over [`crate::net`], generated into `include/wskit.h`.
//!
//! This layer only translates: C pointers and ids to Rust references and ids, `net::Error` to
//! `wskit_status`, `net::Handler` calls to C callbacks or queued events. Rules every function
//! follows (see README "C API conventions" and CONTRIBUTING.md):
//! - it is declared with `ffi_fn!` (no_mangle + panic boundary; a panic returns
//!   `WSKIT_ERR_PANIC`, NULL, or nothing);
//! - a required pointer that is NULL gives `WSKIT_ERR_NULL_ARG`; destructors accept NULL;
//! - out-parameters are written only on `WSKIT_OK`; the last error's text is kept per thread
//!   (`wskit_error_last`);
//! - every `unsafe` block says why it is sound in a `// SAFETY:` line.

#![allow(non_camel_case_types)] // C names: wskit_ctx, wskit_status, ...

#[macro_use]
pub(crate) mod macros;
pub mod accept;
pub mod callbacks;
pub mod config;
pub mod conn;
pub mod ctx;
pub mod queue;
pub mod remote;
pub mod status;
pub mod version;

pub use accept::{wskit_accept, wskit_header};
pub use config::wskit_config;
pub use ctx::wskit_ctx;
pub use queue::{wskit_event, wskit_event_kind};
pub use remote::wskit_remote;
pub use status::wskit_status;
