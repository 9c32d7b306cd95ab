//! [`InitErrorRecord`]: what a runtime posted to `/init/error`.

/// What a runtime posted to `/init/error` ([`Emulator::init_error`](crate::Emulator::init_error)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InitErrorRecord {
    /// The error type Lambda records for the header (§4.1 rules).
    pub function_error: String,
    /// The `Lambda-Runtime-Function-Error-Type` header as sent.
    pub error_type_header: Option<String>,
    /// The body as sent.
    pub body: Vec<u8>,
    /// The status the emulator answered (202, or 403 after the first `/next`).
    pub status: u16,
}
