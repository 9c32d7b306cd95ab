//! [`Params`]: named string values in the order they came (path parameters, stage variables,
//! a route's captures).

/// Named string values, in the order the event (or the route pattern) gave them.
///
/// Small on purpose: lookups are linear, which beats hashing for the handful of entries an
/// event carries. A name given twice keeps both entries; [`Params::get`] returns the first.
///
/// ```
/// use coda_handlers::http::Params;
///
/// let params: Params = [("id", "42"), ("format", "json")].into_iter().collect();
/// assert_eq!(params.get("id"), Some("42"));
/// assert_eq!(params.get("missing"), None);
/// assert_eq!(params.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["id", "format"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params {
    entries: Vec<(String, String)>,
}

impl Params {
    /// No values.
    pub const fn new() -> Params {
        Params {
            entries: Vec::new(),
        }
    }

    /// The first value named `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every (name, value) pair, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many pairs there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds a pair at the end.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.entries.push((name.into(), value.into()));
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Params {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Params {
        Params {
            entries: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

impl<'a> IntoIterator for &'a Params {
    type Item = (&'a str, &'a str);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, String)>,
        fn(&'a (String, String)) -> (&'a str, &'a str),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}
