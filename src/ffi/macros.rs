//! The panic boundary and the argument-checking helpers every `extern "C"` function goes through.
//!
//! - [`ffi_fn!`](crate::ffi_fn) declares an exported function: it adds `#[unsafe(no_mangle)]`,
//!   `pub unsafe extern "C"`, and runs the body inside [`boundary`], which catches a panic and returns
//!   the return type's [`PanicDefault`] (`WSKIT_ERR_PANIC` for a status, NULL for a pointer, nothing
//!   for `void`). A panic therefore never unwinds into C.
//! - `try_ctx!`, `try_ref!`, `try_mut!`, `try_str!`, `try_str_bytes!`, `try_bytes!` turn a C pointer
//!   into a Rust reference or slice, returning `WSKIT_ERR_NULL_ARG` (and setting the thread's
//!   last-error detail to the argument's name) when a required pointer is NULL. String arguments
//!   are `ptr, len` with `WSKIT_NTS` meaning NUL-terminated (`try_str!`, `try_str_bytes!`);
//!   `write_str_out!` writes a string result (`out`, optional `out_len`). `try_ctx!` also refuses
//!   calls from the context's tracer (`WSKIT_ERR_REENTRANT`). Each holds the one `unsafe`
//!   block of its kind, with its `// SAFETY:` line; the safety argument is always the same: the
//!   function's documentation (in the header) requires a non-NULL pointer to be valid.
//! - `try_net!` converts a `net::Error` into its status, recording the error's text as the
//!   thread's last-error detail.
//!
//! `build.rs` reads the `ffi_fn!` invocations with `syn` and hands cbindgen the plain `extern "C"`
//! signatures, so the header shows exactly what the macro exports.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::status::{set_last_error, wskit_status};

/// The value an exported function returns when its body panicked.
pub(crate) trait PanicDefault {
    /// The value to return.
    fn panic_default() -> Self;
}

impl PanicDefault for wskit_status {
    fn panic_default() -> Self {
        wskit_status::WSKIT_ERR_PANIC
    }
}

impl PanicDefault for () {
    fn panic_default() -> Self {}
}

impl PanicDefault for u32 {
    fn panic_default() -> Self {
        0
    }
}

impl<T> PanicDefault for *const T {
    fn panic_default() -> Self {
        std::ptr::null()
    }
}

impl<T> PanicDefault for *mut T {
    fn panic_default() -> Self {
        std::ptr::null_mut()
    }
}

/// Runs `body`, turning a panic into `R::panic_default()` (and the last-error detail "panic: ...").
pub(crate) fn boundary<R: PanicDefault>(body: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!(
                "panic inside wskit (a bug), caught at the C boundary; the context stays usable: {what}"
            ));
            R::panic_default()
        }
    }
}

/// Declares exported C functions. See the module documentation.
#[macro_export]
#[doc(hidden)]
macro_rules! ffi_fn {
    ($(#[$meta:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$meta])*
        ///
        /// # Safety
        /// Each non-NULL pointer argument must be valid as documented above (a live wskit handle
        /// used by one thread at a time, a readable buffer of the stated length, a NUL-terminated
        /// string, a writable out-parameter); see README.md, "C API conventions".
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
            $crate::ffi::macros::boundary(move || -> $ret { $body })
        }
    };
    ($(#[$meta:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $crate::ffi_fn!($(#[$meta])* fn $name($($arg: $ty),*) -> () $body);
    };
}

/// Returns `WSKIT_ERR_NULL_ARG` from the enclosing function when `$ptr` is NULL.
macro_rules! non_null {
    ($ptr:expr) => {
        if $ptr.is_null() {
            return $crate::ffi::status::null_arg(stringify!($ptr));
        }
    };
}

/// `&T` from a `*const T`/`*mut T` argument; `WSKIT_ERR_NULL_ARG` when NULL.
macro_rules! try_ref {
    ($ptr:expr) => {{
        non_null!($ptr);
        // SAFETY: the function's documentation requires a non-NULL pointer to point to a live object
        // of this type obtained from wskit (or, for plain structs, one the caller owns), used by one
        // thread at a time; it stays valid for the duration of this call.
        unsafe { &*$ptr }
    }};
}

/// `&mut T` from a `*mut T` argument owned by the caller; `WSKIT_ERR_NULL_ARG` when NULL.
macro_rules! try_mut {
    ($ptr:expr) => {{
        non_null!($ptr);
        // SAFETY: the function's documentation requires a non-NULL pointer to point to a live,
        // exclusively used object of this type (a wskit handle not shared with another thread or
        // call), valid for the duration of this call.
        unsafe { &mut *$ptr }
    }};
}

/// `&wskit_ctx` from a context argument (contexts are only ever shared-borrowed; see ctx.rs).
macro_rules! try_ctx {
    ($ptr:expr) => {{
        let ctx: &$crate::ffi::ctx::wskit_ctx = try_ref!($ptr);
        if let Err(status) = ctx.check_tracer() {
            return status;
        }
        ctx
    }};
}

/// Writes an out-parameter (checked non-NULL by the caller with `non_null!`).
macro_rules! write_out {
    ($ptr:expr, $value:expr) => {{
        let value = $value;
        // SAFETY: `$ptr` was checked non-NULL on entry, and the documentation requires an out
        // pointer to be valid for writing one value of its type.
        unsafe { $ptr.write(value) };
    }};
}

/// The length of a string argument: `len`, or, for `WSKIT_NTS`, the distance to its NUL.
///
/// # Safety
/// For `WSKIT_NTS`, `ptr` must be non-NULL and NUL-terminated.
pub(crate) unsafe fn measured(ptr: *const std::ffi::c_char, len: usize) -> usize {
    if len == super::WSKIT_NTS {
        // SAFETY: the caller passes a non-NULL, NUL-terminated string with WSKIT_NTS.
        unsafe { std::ffi::CStr::from_ptr(ptr) }.to_bytes().len()
    } else {
        len
    }
}

/// `&[u8]` from a string argument `ptr, len` (`len` = `WSKIT_NTS`: NUL-terminated). NULL is
/// allowed when the length is 0; NULL otherwise is `WSKIT_ERR_NULL_ARG`.
macro_rules! try_str_bytes {
    ($ptr:expr, $len:expr) => {{
        let (ptr, len): (*const std::ffi::c_char, usize) = ($ptr, $len);
        if ptr.is_null() {
            if len == 0 {
                &[][..]
            } else {
                return $crate::ffi::status::null_arg(stringify!($ptr));
            }
        } else {
            // SAFETY: `ptr` is non-NULL; the documentation requires a string passed with WSKIT_NTS
            // to be NUL-terminated.
            let len = unsafe { $crate::ffi::macros::measured(ptr, len) };
            try_bytes!(ptr, len)
        }
    }};
}

/// `&str` from a string argument `ptr, len` (see `try_str_bytes!`); `WSKIT_ERR_INVALID_UTF8` when
/// it is not UTF-8. Any bytes, NUL included, are allowed inside the length.
macro_rules! try_str {
    ($ptr:expr, $len:expr) => {{
        let bytes: &[u8] = try_str_bytes!($ptr, $len);
        match std::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(_) => {
                return $crate::ffi::status::fail_with(
                    $crate::ffi::status::wskit_status::WSKIT_ERR_INVALID_UTF8,
                    concat!("argument `", stringify!($ptr), "` is not valid UTF-8"),
                );
            }
        }
    }};
}

/// Writes a string result: `*out` = `ptr` (NUL-terminated after `len` bytes, or NULL), and
/// `*out_len` = `len` when `out_len` is not NULL. `out` was checked non-NULL by the caller.
macro_rules! write_str_out {
    ($out:expr, $out_len:expr, $ptr:expr, $len:expr) => {{
        let (ptr, len): (*const std::ffi::c_char, usize) = ($ptr, $len);
        write_out!($out, ptr);
        if !$out_len.is_null() {
            write_out!($out_len, len);
        }
    }};
}

/// `&[u8]` from a pointer and length. NULL is allowed when the length is 0 (an empty payload);
/// NULL with a length above 0 is `WSKIT_ERR_NULL_ARG`.
macro_rules! try_bytes {
    ($ptr:expr, $len:expr) => {{
        let (ptr, len) = ($ptr, $len);
        if len == 0 {
            &[][..]
        } else {
            non_null!($ptr);
            if len > isize::MAX as usize {
                return $crate::ffi::status::fail_with(
                    $crate::ffi::status::wskit_status::WSKIT_ERR_INVALID_ARG,
                    "length is too large",
                );
            }
            // SAFETY: the documentation requires `ptr` to be readable for `len` bytes for the duration
            // of the call; it is non-NULL and `len` fits in isize.
            unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) }
        }
    }};
}

/// The value of a `net::Result`, or return its status from the enclosing function.
macro_rules! try_net {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(err) => return $crate::ffi::status::fail(&err),
        }
    };
}

/// A `*const wskit_remote` argument as a live handle, or the status to return: NULL gives
/// `WSKIT_ERR_NULL_ARG`, a handle whose context is gone `WSKIT_ERR_INVALID_STATE`. Used by the
/// `wskit_remote_*` functions of remote.rs and http.rs.
macro_rules! try_remote {
    ($ptr:expr) => {{
        let remote: &$crate::ffi::remote::wskit_remote = try_ref!($ptr);
        match remote.check() {
            Ok(remote) => remote,
            Err(status) => return status,
        }
    }};
}
