//! Panics caught by the runtime: their text, and the [`Diagnostic`]s reported for them.
//!
//! One home for what a caught panic becomes: the handler's (`Runtime.HandlerPanic`, the loop
//! goes on, `docs/runtime-api.md` §9 #16), init's (`Runtime.InitPanic`, posted to
//! `/init/error`), and deferred work's (an outcome, see [`crate::DeferredOutcome`]).

use std::any::Any;

use crate::Diagnostic;

/// The text of a panic payload (`&str` or `String`; anything else is described).
pub(crate) fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// The diagnostic reported for a panic in the handler (or in a streamed body's writer).
pub(crate) fn handler_panic(payload: &(dyn Any + Send)) -> Diagnostic {
    Diagnostic::new(
        "Runtime.HandlerPanic",
        format!("the handler panicked: {}", message(payload)),
    )
}

/// The diagnostic reported for a panic in init.
pub(crate) fn init_panic(payload: &(dyn Any + Send)) -> Diagnostic {
    Diagnostic::new(
        "Runtime.InitPanic",
        format!("init panicked: {}", message(payload)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// String and `&str` payloads keep their text; others are described, never lost.
    #[test]
    fn payload_texts() {
        assert_eq!(message(&"static"), "static");
        assert_eq!(message(&String::from("owned")), "owned");
        assert_eq!(message(&42_u8), "panic with a non-string payload");
        let d = handler_panic(&"index out of range");
        assert_eq!(d.error_type(), "Runtime.HandlerPanic");
        assert_eq!(d.message(), "the handler panicked: index out of range");
        assert_eq!(init_panic(&"x").error_type(), "Runtime.InitPanic");
    }
}
