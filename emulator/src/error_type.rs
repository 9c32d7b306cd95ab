//! The error type Lambda records for a failed invocation, from the error-type header a runtime
//! sent (`docs/runtime-api.md` §4.1, §9 #17): what the caller sees as `X-Amz-Function-Error`.

/// The error type Lambda records for an error-type header value (§4.1, §9 #17): the first
/// `(Runtime|Function)\.[A-Z][a-zA-Z]+` match in it, else `Function.Unknown` for values that
/// start with `Function.` and `Runtime.Unknown` for the rest (including no header at all).
pub(crate) fn recorded_error_type(value: Option<&str>) -> String {
    let value = value.unwrap_or_default();
    for (start, _) in value.match_indices(['R', 'F']) {
        let rest = &value[start..];
        let Some(tail) = rest
            .strip_prefix("Runtime.")
            .or_else(|| rest.strip_prefix("Function."))
        else {
            continue;
        };
        let name_len = tail.bytes().take_while(u8::is_ascii_alphabetic).count();
        if name_len >= 2 && tail.as_bytes()[0].is_ascii_uppercase() {
            let prefix_len = rest.len() - tail.len();
            return rest[..prefix_len + name_len].to_owned();
        }
    }
    if value.starts_with("Function.") {
        "Function.Unknown".to_owned()
    } else {
        "Runtime.Unknown".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §4.1: what Lambda records for error-type header values.
    #[test]
    fn recorded_error_types() {
        let r = |v| recorded_error_type(v);
        assert_eq!(r(Some("Runtime.UnmarshalError")), "Runtime.UnmarshalError");
        assert_eq!(r(Some("Function.Rejected")), "Function.Rejected");
        assert_eq!(r(Some("x Runtime.Found here")), "Runtime.Found");
        assert_eq!(r(Some("Function.lower")), "Function.Unknown");
        assert_eq!(r(Some("Unhandled")), "Runtime.Unknown");
        assert_eq!(r(Some("unhandled")), "Runtime.Unknown");
        assert_eq!(r(None), "Runtime.Unknown");
    }
}
