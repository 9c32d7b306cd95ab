//! A function as the Lambda API lets callers name it: a name, a full ARN or a partial ARN,
//! each with an optional qualifier (`[arn:aws:lambda:][region:][account:][function:]name
//! [:qualifier]`, the `FunctionName` pattern of the Invoke API reference).

/// A function named in a request: a name, a full ARN or a partial ARN
/// (`[arn:aws:lambda:][region:][account:][function:]name[:qualifier]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FunctionRef {
    pub(crate) name: String,
    /// The version or alias after the name (`:prod`, `:3`), if any.
    pub(crate) qualifier: Option<String>,
}

impl FunctionRef {
    /// Parses the forms the Lambda API accepts; `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<FunctionRef> {
        let parts: Vec<&str> = text.split(':').collect();
        let mut rest = parts.as_slice();
        if let ["arn", partition, "lambda", tail @ ..] = rest {
            if !partition.is_empty() && !partition.starts_with("aws") {
                return None;
            }
            rest = tail;
        }
        let mut skip = |test: &dyn Fn(&str) -> bool| {
            if rest.len() > 1 && test(rest[0]) {
                rest = &rest[1..];
            }
        };
        skip(&is_region);
        skip(&|p| p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()));
        skip(&|p| p == "function");
        let (name, qualifier) = match rest {
            [name] => (*name, None),
            [name, qualifier] => (*name, Some(*qualifier)),
            _ => return None,
        };
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        let qualifier_ok = qualifier.is_none_or(|q| {
            !q.is_empty()
                && q.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'$' | b'.'))
        });
        (name_ok && qualifier_ok).then(|| FunctionRef {
            name: name.to_owned(),
            qualifier: qualifier.map(str::to_owned),
        })
    }
}

/// `us-east-1`, `us-gov-west-1`: two letters, words, one digit.
fn is_region(part: &str) -> bool {
    let words: Vec<&str> = part.split('-').collect();
    let lower = |w: &&str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase());
    words.len() >= 3
        && words.len() <= 4
        && words[0].len() == 2
        && words[..words.len() - 1].iter().all(lower)
        && words[words.len() - 1].len() == 1
        && words[words.len() - 1].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(name: &str, qualifier: Option<&str>) -> Option<FunctionRef> {
        Some(FunctionRef {
            name: name.into(),
            qualifier: qualifier.map(Into::into),
        })
    }

    /// Names, full and partial ARNs, with and without qualifiers; anything else is refused.
    #[test]
    fn function_names() {
        let parse = FunctionRef::parse;
        assert_eq!(parse("my-fn"), function("my-fn", None));
        assert_eq!(parse("my-fn:prod"), function("my-fn", Some("prod")));
        assert_eq!(
            parse("arn:aws:lambda:us-west-2:123456789012:function:my-fn"),
            function("my-fn", None)
        );
        assert_eq!(
            parse("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:my-fn:$LATEST"),
            function("my-fn", Some("$LATEST"))
        );
        assert_eq!(
            parse("123456789012:function:my-fn:7"),
            function("my-fn", Some("7"))
        );
        assert_eq!(parse("function:my-fn"), function("my-fn", None));
        assert_eq!(parse("arn:aws:s3:::bucket"), None);
        assert_eq!(parse("a:b:c"), None);
        assert_eq!(parse("bad name"), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse("my-fn:"), None);
    }
}
