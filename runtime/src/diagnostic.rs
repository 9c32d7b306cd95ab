//! [`Diagnostic`]: what a failed invocation reports to `/error` (`docs/runtime-api.md` §4.1).
//!
//! Any error a handler returns becomes a `Diagnostic` through `?`: every type that converts
//! into `Box<dyn Error + Send + Sync>` (all `Send + Sync` errors, `String`, `&str`, boxed
//! errors, `anyhow::Error`) gets a readable `errorType` taken from its type name. A user who
//! wants to choose the type builds the `Diagnostic` (`Diagnostic::new`,
//! [`Diagnostic::with_error_type`]) or implements `From<TheirType> for Diagnostic` for a type
//! that is not a `std::error::Error`.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

use crate::protocol::is_canonical_error_type;

/// Largest `errorMessage` posted, in bytes: keeps the `/error` body well under the 1 MiB
/// Lambda accepts (§4.1). Longer messages are cut at a character boundary.
const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Largest number of `stackTrace` lines posted.
const MAX_STACK_LINES: usize = 64;

/// An invocation's failure, as posted to `/error` and `/init/error`.
///
/// The body is Lambda's error shape `{"errorType", "errorMessage", "stackTrace"}`; the
/// `Lambda-Runtime-Function-Error-Type` header is derived with [`Diagnostic::header_value`].
///
/// ```
/// use coda_lambda::Diagnostic;
///
/// // Any error converts, keeping a readable type name.
/// let parse: Result<u32, _> = "x1".parse::<u32>();
/// let d = Diagnostic::from(parse.unwrap_err());
/// assert_eq!(d.error_type(), "ParseIntError");
/// assert_eq!(d.header_value(), "Function.ParseIntError");
///
/// // Or choose the type yourself.
/// let d = Diagnostic::new("Function.OrderRejected", "order o-1 exceeds the limit");
/// assert_eq!(d.header_value(), "Function.OrderRejected");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Diagnostic {
    error_type: Cow<'static, str>,
    message: String,
    stack_trace: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic with the given `errorType` and `errorMessage` and no stack trace.
    pub fn new(error_type: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Diagnostic {
            error_type: error_type.into(),
            message: truncate(message.into(), MAX_MESSAGE_BYTES),
            stack_trace: Vec::new(),
        }
    }

    /// Replaces the `errorType`.
    pub fn with_error_type(mut self, error_type: impl Into<Cow<'static, str>>) -> Self {
        self.error_type = error_type.into();
        self
    }

    /// Replaces the `stackTrace` lines (at most 64 are posted).
    pub fn with_stack_trace(mut self, lines: impl IntoIterator<Item = String>) -> Self {
        self.stack_trace = lines.into_iter().take(MAX_STACK_LINES).collect();
        self
    }

    /// The `errorType` of the body.
    pub fn error_type(&self) -> &str {
        &self.error_type
    }

    /// The `errorMessage` of the body.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `stackTrace` lines of the body (for converted errors: their `source()` chain).
    pub fn stack_trace(&self) -> &[String] {
        &self.stack_trace
    }

    /// The `Lambda-Runtime-Function-Error-Type` header value for this diagnostic.
    ///
    /// RAPID keeps the header only in the `Runtime.X` / `Function.X` form (§4.1, §9 #17). An
    /// `errorType` already in that form is sent as it is; otherwise it becomes `Function.` and
    /// the type name in CamelCase (`ParseIntError` → `Function.ParseIntError`, `io::Error` →
    /// `Function.IoError`), or `Function.Unhandled` when no name can be made.
    pub fn header_value(&self) -> Cow<'_, str> {
        if is_canonical_error_type(&self.error_type) {
            return Cow::Borrowed(&self.error_type);
        }
        match camel_case_name(&self.error_type) {
            Some(name) => Cow::Owned(format!("Function.{name}")),
            None => Cow::Borrowed("Function.Unhandled"),
        }
    }

    /// The `/error` body: `{"errorType", "errorMessage", "stackTrace"}`.
    pub fn to_json(&self) -> Vec<u8> {
        let body = serde_json::json!({
            "errorType": self.error_type,
            "errorMessage": self.message,
            "stackTrace": self.stack_trace,
        });
        // A `Value` made of strings always serializes.
        serde_json::to_vec(&body).unwrap_or_default()
    }

    /// Reads an error body back (used by the emulator and by tests). Missing fields are empty.
    pub fn from_json(body: &[u8]) -> Option<Diagnostic> {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        let text = |key: &str| value.get(key).and_then(|v| v.as_str()).unwrap_or_default();
        let stack: Vec<String> = value
            .get("stackTrace")
            .and_then(|v| v.as_array())
            .map(|lines| {
                lines
                    .iter()
                    .map(|l| l.as_str().map_or_else(|| l.to_string(), str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Some(
            Diagnostic::new(text("errorType").to_owned(), text("errorMessage"))
                .with_stack_trace(stack),
        )
    }

    /// A diagnostic for an error value, naming its type `T` (see [`readable_type_name`]).
    fn from_error<T: ?Sized>(error: &(dyn StdError + 'static)) -> Diagnostic {
        let mut chain = Vec::new();
        let mut source = error.source();
        while let Some(cause) = source {
            chain.push(format!("caused by: {cause}"));
            source = cause.source();
        }
        Diagnostic::new(
            readable_type_name(std::any::type_name::<T>()),
            error.to_string(),
        )
        .with_stack_trace(chain)
    }
}

impl<E> From<E> for Diagnostic
where
    E: Into<Box<dyn StdError + Send + Sync>>,
{
    /// Converts any error (or `String` / `&str`) into a diagnostic: `errorType` is the
    /// readable name of `E`, `errorMessage` its `Display`, `stackTrace` its `source()` chain.
    fn from(error: E) -> Self {
        let boxed: Box<dyn StdError + Send + Sync> = error.into();
        Diagnostic::from_error::<E>(&*boxed)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)?;
        for line in &self.stack_trace {
            write!(f, "; {line}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Diagnostic")
            .field("error_type", &self.error_type)
            .field("message", &self.message)
            .field("stack_trace", &self.stack_trace)
            .finish()
    }
}

/// Shortens a `std::any::type_name` for people: no leading `&`, each path cut to its last
/// segment, except that a bare `Error` keeps the module naming it (`io::Error`,
/// `serde_json::Error`) unless that module is `core`, `std` or `alloc`.
pub(crate) fn readable_type_name(full: &str) -> String {
    let trimmed = full
        .trim_start_matches(['&', ' '])
        .trim_start_matches("mut ");
    let mut out = String::with_capacity(trimmed.len());
    let mut path = String::new();
    let flush = |path: &mut String, out: &mut String| {
        if !path.is_empty() {
            out.push_str(&shorten_path(path));
            path.clear();
        }
    };
    for c in trimmed.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            path.push(c);
        } else {
            flush(&mut path, &mut out);
            out.push(c);
        }
    }
    flush(&mut path, &mut out);
    out
}

fn shorten_path(path: &str) -> String {
    let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let Some((&last, rest)) = segments.split_last() else {
        return path.to_owned();
    };
    if last == "Error" {
        let module = rest.iter().rev().find(|s| **s != "error");
        if let Some(&module) = module
            && !matches!(module, "core" | "std" | "alloc")
        {
            return format!("{module}::Error");
        }
    }
    last.to_owned()
}

/// `io::Error` → `IoError`, `ParseIntError` → `ParseIntError`; `None` for names that do not
/// say anything (`str`, `String`, boxed trait objects, a bare `Error`).
fn camel_case_name(error_type: &str) -> Option<String> {
    let base = error_type.split('<').next().unwrap_or_default().trim();
    if matches!(
        base,
        "str" | "String" | "Cow" | "Box" | "Arc" | "Error" | ""
    ) {
        return None;
    }
    let mut name = String::new();
    for part in base.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = part.chars().filter(char::is_ascii_alphabetic);
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.extend(chars);
        }
    }
    (name.len() >= 2).then_some(name)
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("could not load the price list")
        }
    }
    impl StdError for Outer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    /// Converted errors keep a readable type, their message and their cause chain.
    #[test]
    fn errors_convert_with_readable_types() {
        let d = Diagnostic::from("plain text");
        assert_eq!((d.error_type(), d.message()), ("str", "plain text"));
        assert_eq!(d.header_value(), "Function.Unhandled");

        let d = Diagnostic::from(String::from("owned"));
        assert_eq!(d.error_type(), "String");

        let d = Diagnostic::from(std::io::Error::other("disk"));
        assert_eq!(
            (d.error_type(), d.header_value().as_ref()),
            ("io::Error", "Function.IoError")
        );

        let d = Diagnostic::from(Outer(std::io::Error::other("no such file")));
        assert_eq!(d.error_type(), "Outer");
        assert_eq!(d.message(), "could not load the price list");
        assert_eq!(d.stack_trace(), ["caused by: no such file"]);

        let boxed: Box<dyn StdError + Send + Sync> = "boxed".into();
        let d = Diagnostic::from(boxed);
        assert_eq!(d.error_type(), "Box<dyn Error + Send + Sync>");
        assert_eq!(d.header_value(), "Function.Unhandled");
    }

    /// §4.1: the body has exactly Lambda's three keys and reads back.
    #[test]
    fn json_body_round_trips() {
        let d = Diagnostic::new("Function.Rejected", "too big").with_stack_trace(["a".to_owned()]);
        let v: serde_json::Value = serde_json::from_slice(&d.to_json()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"errorType": "Function.Rejected", "errorMessage": "too big", "stackTrace": ["a"]})
        );
        assert_eq!(Diagnostic::from_json(&d.to_json()), Some(d));
        assert_eq!(Diagnostic::from_json(b"not json"), None);
    }

    /// A user-chosen type in canonical form is used as the header unchanged.
    #[test]
    fn header_values() {
        let h = |t: &'static str| Diagnostic::new(t, "m").header_value().into_owned();
        assert_eq!(h("Runtime.UnmarshalError"), "Runtime.UnmarshalError");
        assert_eq!(h("OrderRejected"), "Function.OrderRejected");
        assert_eq!(h("serde_json::Error"), "Function.SerdeJsonError");
        assert_eq!(h("Vec<u8>"), "Function.Vec");
        assert_eq!(h("x"), "Function.Unhandled");
    }

    /// Type names are shortened for people: no `&`, last path segments, `io::Error` kept.
    #[test]
    fn readable_type_names() {
        let r = readable_type_name;
        assert_eq!(r("&str"), "str");
        assert_eq!(r("std::io::error::Error"), "io::Error");
        assert_eq!(r("serde_json::error::Error"), "serde_json::Error");
        assert_eq!(r("my_app::orders::Rejected"), "Rejected");
        assert_eq!(
            r(
                "alloc::boxed::Box<dyn core::error::Error + core::marker::Send + core::marker::Sync>"
            ),
            "Box<dyn Error + Send + Sync>"
        );
    }

    /// Oversized messages are cut so the body stays under Lambda's 1 MiB.
    #[test]
    fn long_messages_are_truncated_on_char_boundaries() {
        let d = Diagnostic::new("T", "é".repeat(MAX_MESSAGE_BYTES));
        assert!(d.message().len() <= MAX_MESSAGE_BYTES);
        assert!(d.to_json().len() < 1024 * 1024);
    }
}
