//! [`Faults`]: the faults the emulator injects into its Runtime API answers, which calls each
//! hits ([`When`]), and the `--faults` spec they are written in. Data and parsing only; where
//! they fire is `fault_injection`, what was injected is `fault_record`. What a runtime should
//! do about each is `docs/runtime-api.md` §11.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A set of faults to inject, each with the calls it hits ([`crate::EmulatorBuilder::faults`],
/// `coda run --faults SPEC`).
///
/// The spec is a comma-separated list of `KEY=FAULT[@WHEN]`:
///
/// | entry | what the emulator does |
/// | --- | --- |
/// | `next=500`, `next=403`, `next=204` | answers the `/next` that hands out an event with that status (RAPID's JSON error body; none for 204) instead of the event |
/// | `next=cut` | sends the event's head with its full `Content-Length`, half the body, then closes the connection |
/// | `next=reset` | sends the head and half the body, then resets the connection (TCP RST) |
/// | `next=close` | sends the event in full as for keep-alive (no `Connection: close`), then closes the connection silently |
/// | `response=400`, `403`, `410`, `413`, `500` | answers the runtime's `/response` or `/error` post with that status and RAPID's body for it |
/// | `response=reset` | reads the post, records the answer, then resets the connection halfway through the status line |
/// | `response=close` | answers the post in full as for keep-alive, then closes the connection silently |
/// | `response=slow:BYTES/MS` | reads the post's body at BYTES bytes per MS milliseconds (`slow:1024/10`, `ms` may follow) |
/// | `headers=upper`, `headers=mixed` | writes the event's header names in upper case (`LAMBDA-RUNTIME-AWS-REQUEST-ID`) or alternating case (`lAmBdA-rUnTiMe-…`) |
/// | `headers=empty` | sends every header but the request id and `Content-Type` with an empty value (deadline, ARN, trace id, client context, Cognito identity, tenant id, invocation id) |
/// | `headers=non-utf8` | puts bytes that are not UTF-8 (`0xFF 0xFE`) into the trace id, client context, Cognito identity and ARN values |
/// | `id=duplicate` | gives an invocation the request id of the invocation queued before it |
/// | `deadline=past` | tells the runtime a deadline one second in the past (the emulator's own timeout is unchanged) |
///
/// `WHEN` counts calls from 1, per key: `next`, `headers` and `deadline` count the events
/// `/next` hands out (an event handed out again counts again), `response` counts the posts
/// to `/response` and `/error`, `id` counts the invocations queued. It is `N` (the Nth),
/// `N-M` (the Nth to the Mth), `N-` (the Nth and every one after), `every` (the default) or
/// `every:K` (the Kth, 2Kth, …). Nothing is random: the same spec hits the same calls.
///
/// ```
/// use coda_emulator::{Fault, Faults, When};
///
/// let faults: Faults = "next=500@3,response=413@2-4,deadline=past@every:5".parse()?;
/// assert_eq!(faults.entries()[0], (Fault::NextStatus(500), When::Nth(3)));
/// assert_eq!(faults.to_string(), "next=500@3,response=413@2-4,deadline=past@every:5");
///
/// let error = "next=501".parse::<Faults>().unwrap_err();
/// assert!(error.to_string().contains("`next=501`"));
/// # Ok::<(), coda_emulator::FaultSpecError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// The faults, in the order given.
    entries: Vec<(Fault, When)>,
}

/// One fault the emulator can inject (the table on [`Faults`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// `/next` answered with this status (500, 403 or 204) instead of the event.
    NextStatus(u16),
    /// `/next`'s body cut short: the full `Content-Length`, half the body, then a close.
    NextCut,
    /// `/next`'s answer reset (TCP RST) after the head and half the body.
    NextReset,
    /// `/next` answered in full, then the kept connection closed without `Connection: close`.
    NextClose,
    /// `/response` or `/error` answered with this status (400, 403, 410, 413 or 500).
    ResponseStatus(u16),
    /// The answer to `/response` or `/error` reset halfway through its status line.
    ResponseReset,
    /// `/response` or `/error` answered in full, then the kept connection closed silently.
    ResponseClose,
    /// The post's body read at `bytes` bytes per `every`.
    SlowRead {
        /// Bytes read per interval.
        bytes: usize,
        /// The interval.
        every: Duration,
    },
    /// The event's header names in upper case.
    UpperCaseHeaders,
    /// The event's header names in alternating case.
    MixedCaseHeaders,
    /// The event's headers (all but the request id and `Content-Type`) with empty values.
    EmptyHeaders,
    /// Bytes that are not UTF-8 in the trace id, client context, Cognito identity and ARN.
    NonUtf8Headers,
    /// The invocation gets the request id of the one queued before it.
    DuplicateId,
    /// The deadline the runtime is told is one second in the past.
    DeadlinePast,
}

/// Which calls a fault hits, counted from 1 (the calls each key counts are on [`Faults`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum When {
    /// The Nth call.
    Nth(u64),
    /// The Nth to the Mth call, both included.
    Range(u64, u64),
    /// The Nth call and every one after it.
    From(u64),
    /// Every call.
    Every,
    /// Every Kth call: the Kth, the 2Kth, …
    EveryKth(u64),
}

/// Which calls a fault counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Counted {
    /// Events handed out by `/next`.
    Events,
    /// Posts to `/response` and `/error`.
    Answers,
    /// Invocations queued.
    Queued,
}

/// A `--faults` spec that cannot be read: the entry, and what is valid there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultSpecError {
    /// The entry (or part of it) that is wrong.
    token: String,
    /// What is wrong with it, and what would be valid.
    why: String,
}

impl fmt::Display for FaultSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fault `{}`: {}", self.token, self.why)
    }
}

impl std::error::Error for FaultSpecError {}

/// The valid entries, for error messages.
const VALID: &str = "next=500|403|204|cut|reset|close, response=400|403|410|413|500|reset|close|slow:BYTES/MS, headers=upper|mixed|empty|non-utf8, id=duplicate, deadline=past";
/// The valid `@WHEN` forms, for error messages.
const VALID_WHEN: &str = "N, N-M, N-, every or every:K (calls count from 1)";

impl Faults {
    /// No faults (the default).
    pub fn none() -> Faults {
        Faults::default()
    }

    /// Adds `fault`, hitting the calls `when` says.
    pub fn with(mut self, fault: Fault, when: When) -> Faults {
        self.entries.push((fault, when));
        self
    }

    /// The faults and when each hits, in the order given.
    pub fn entries(&self) -> &[(Fault, When)] {
        &self.entries
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The faults that count `counted` and hit call `n`, in the order given.
    pub(crate) fn hitting(&self, counted: Counted, n: u64) -> impl Iterator<Item = Fault> + '_ {
        self.entries
            .iter()
            .filter(move |(fault, when)| fault.counted() == counted && when.hits(n))
            .map(|(fault, _)| *fault)
    }

    /// Whether any fault counts `counted`.
    pub(crate) fn counts(&self, counted: Counted) -> bool {
        self.entries.iter().any(|(f, _)| f.counted() == counted)
    }
}

impl Fault {
    /// Which calls it counts.
    pub(crate) fn counted(self) -> Counted {
        match self {
            Fault::ResponseStatus(_)
            | Fault::ResponseReset
            | Fault::ResponseClose
            | Fault::SlowRead { .. } => Counted::Answers,
            Fault::DuplicateId => Counted::Queued,
            _ => Counted::Events,
        }
    }
}

impl When {
    /// Whether it hits call `n` (from 1).
    pub fn hits(self, n: u64) -> bool {
        match self {
            When::Nth(k) => n == k,
            When::Range(a, b) => (a..=b).contains(&n),
            When::From(a) => n >= a,
            When::Every => true,
            When::EveryKth(k) => k > 0 && n.is_multiple_of(k),
        }
    }
}

impl fmt::Display for Fault {
    /// The spec's `KEY=FAULT` form (`next=500`, `response=slow:1024/10ms`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::NextStatus(s) => write!(f, "next={s}"),
            Fault::NextCut => f.write_str("next=cut"),
            Fault::NextReset => f.write_str("next=reset"),
            Fault::NextClose => f.write_str("next=close"),
            Fault::ResponseStatus(s) => write!(f, "response={s}"),
            Fault::ResponseReset => f.write_str("response=reset"),
            Fault::ResponseClose => f.write_str("response=close"),
            Fault::SlowRead { bytes, every } => {
                write!(f, "response=slow:{bytes}/{}ms", every.as_millis())
            }
            Fault::UpperCaseHeaders => f.write_str("headers=upper"),
            Fault::MixedCaseHeaders => f.write_str("headers=mixed"),
            Fault::EmptyHeaders => f.write_str("headers=empty"),
            Fault::NonUtf8Headers => f.write_str("headers=non-utf8"),
            Fault::DuplicateId => f.write_str("id=duplicate"),
            Fault::DeadlinePast => f.write_str("deadline=past"),
        }
    }
}

impl fmt::Display for When {
    /// The spec's `WHEN` form (`3`, `2-4`, `5-`, `every`, `every:3`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            When::Nth(n) => write!(f, "{n}"),
            When::Range(a, b) => write!(f, "{a}-{b}"),
            When::From(a) => write!(f, "{a}-"),
            When::Every => f.write_str("every"),
            When::EveryKth(k) => write!(f, "every:{k}"),
        }
    }
}

impl fmt::Display for Faults {
    /// The spec, as [`Faults::from_str`] reads it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (fault, when)) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{fault}@{when}")?;
        }
        Ok(())
    }
}

impl FromStr for Faults {
    type Err = FaultSpecError;

    /// Reads a spec (the grammar is on [`Faults`]); spaces around entries are allowed.
    fn from_str(spec: &str) -> Result<Faults, FaultSpecError> {
        let mut faults = Faults::none();
        if spec.trim().is_empty() {
            return Err(error(
                spec,
                format!(
                    "no faults given: write one or more of {VALID}, comma-separated, each with an optional @WHEN"
                ),
            ));
        }
        for entry in spec.split(',').map(str::trim) {
            if entry.is_empty() {
                return Err(error(spec, "an empty entry (two commas, or one at an end)"));
            }
            let (what, when) = match entry.split_once('@') {
                Some((what, when)) => (what, parse_when(entry, when)?),
                None => (entry, When::Every),
            };
            faults.entries.push((parse_fault(entry, what)?, when));
        }
        Ok(faults)
    }
}

/// A spec error about `token`.
fn error(token: &str, why: impl Into<String>) -> FaultSpecError {
    FaultSpecError {
        token: token.to_owned(),
        why: why.into(),
    }
}

/// Reads `KEY=FAULT` (of `entry`, for messages).
fn parse_fault(entry: &str, what: &str) -> Result<Fault, FaultSpecError> {
    let Some((key, value)) = what.split_once('=') else {
        return Err(error(
            entry,
            format!("an entry is KEY=FAULT[@WHEN]; valid: {VALID}"),
        ));
    };
    let fault = match (key.trim(), value.trim()) {
        ("next", "500") => Fault::NextStatus(500),
        ("next", "403") => Fault::NextStatus(403),
        ("next", "204") => Fault::NextStatus(204),
        ("next", "cut") => Fault::NextCut,
        ("next", "reset") => Fault::NextReset,
        ("next", "close") => Fault::NextClose,
        ("next", _) => {
            return Err(error(
                entry,
                "`next` takes 500, 403, 204, cut, reset or close",
            ));
        }
        ("response", "400") => Fault::ResponseStatus(400),
        ("response", "403") => Fault::ResponseStatus(403),
        ("response", "410") => Fault::ResponseStatus(410),
        ("response", "413") => Fault::ResponseStatus(413),
        ("response", "500") => Fault::ResponseStatus(500),
        ("response", "reset") => Fault::ResponseReset,
        ("response", "close") => Fault::ResponseClose,
        ("response", slow) if slow.starts_with("slow") => parse_slow(entry, slow)?,
        ("response", _) => {
            return Err(error(
                entry,
                "`response` takes 400, 403, 410, 413, 500, reset, close or slow:BYTES/MS",
            ));
        }
        ("headers", "upper") => Fault::UpperCaseHeaders,
        ("headers", "mixed") => Fault::MixedCaseHeaders,
        ("headers", "empty") => Fault::EmptyHeaders,
        ("headers", "non-utf8") => Fault::NonUtf8Headers,
        ("headers", _) => {
            return Err(error(
                entry,
                "`headers` takes upper, mixed, empty or non-utf8",
            ));
        }
        ("id", "duplicate") => Fault::DuplicateId,
        ("id", _) => return Err(error(entry, "`id` takes duplicate")),
        ("deadline", "past") => Fault::DeadlinePast,
        ("deadline", _) => return Err(error(entry, "`deadline` takes past")),
        (other, _) => {
            return Err(error(
                entry,
                format!(
                    "unknown key `{other}`: the keys are next, response, headers, id and deadline ({VALID})"
                ),
            ));
        }
    };
    Ok(fault)
}

/// Reads `slow:BYTES/MS` (`ms` may follow the number).
fn parse_slow(entry: &str, slow: &str) -> Result<Fault, FaultSpecError> {
    let bad = || {
        error(
            entry,
            "`response=slow` is slow:BYTES/MS, both above 0 (slow:1024/10: 1 KiB every 10 ms)",
        )
    };
    let rate = slow.strip_prefix("slow:").ok_or_else(bad)?;
    let (bytes, ms) = rate.split_once('/').ok_or_else(bad)?;
    let ms = ms.strip_suffix("ms").unwrap_or(ms);
    let bytes: usize = bytes.parse().map_err(|_| bad())?;
    let ms: u64 = ms.parse().map_err(|_| bad())?;
    if bytes == 0 || ms == 0 {
        return Err(bad());
    }
    Ok(Fault::SlowRead {
        bytes,
        every: Duration::from_millis(ms),
    })
}

/// Reads `WHEN` (of `entry`, for messages).
fn parse_when(entry: &str, when: &str) -> Result<When, FaultSpecError> {
    let bad = |why: &str| error(entry, format!("{why}; @WHEN is {VALID_WHEN}"));
    let number = |text: &str| -> Result<u64, FaultSpecError> {
        match text.trim().parse::<u64>() {
            Ok(0) => Err(bad("calls count from 1, not 0")),
            Ok(n) => Ok(n),
            Err(_) => Err(bad(&format!("`{text}` is not a call number"))),
        }
    };
    let when = when.trim();
    if when == "every" {
        return Ok(When::Every);
    }
    if let Some(k) = when.strip_prefix("every:") {
        return Ok(When::EveryKth(number(k)?));
    }
    if let Some((a, b)) = when.split_once('-') {
        let a = number(a)?;
        if b.trim().is_empty() {
            return Ok(When::From(a));
        }
        let b = number(b)?;
        if b < a {
            return Err(bad(&format!("the range {a}-{b} ends before it starts")));
        }
        return Ok(When::Range(a, b));
    }
    Ok(When::Nth(number(when)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(spec: &str) -> Result<Faults, String> {
        spec.parse::<Faults>().map_err(|e| e.to_string())
    }

    /// Every fault and every `@WHEN` form reads, and prints back as written.
    #[test]
    fn every_form_reads_and_prints_back() {
        let spec = "next=500@3,next=403@1,next=204@2,next=cut@1,next=reset@2-4,next=close@5-,\
                    response=400@every,response=403@every:2,response=410@1,response=413@2,\
                    response=500@3,response=reset@1,response=close@1,response=slow:1024/10ms@1,\
                    headers=upper@1,headers=mixed@1,headers=empty@1,headers=non-utf8@1,\
                    id=duplicate@2,deadline=past@1";
        let faults = parse(spec).unwrap();
        assert_eq!(faults.entries().len(), 20);
        assert_eq!(faults.to_string(), spec.replace(' ', ""));
        assert_eq!(
            parse("next=500").unwrap().entries(),
            &[(Fault::NextStatus(500), When::Every)]
        );
        assert_eq!(
            parse(" response=slow:64/5 @ 2 ").unwrap().entries(),
            &[(
                Fault::SlowRead {
                    bytes: 64,
                    every: Duration::from_millis(5)
                },
                When::Nth(2)
            )]
        );
    }

    /// Which calls each `@WHEN` hits.
    #[test]
    fn when_hits() {
        let hits = |w: When| (1..=9).filter(|&n| w.hits(n)).collect::<Vec<_>>();
        assert_eq!(hits(When::Nth(3)), [3]);
        assert_eq!(hits(When::Range(2, 4)), [2, 3, 4]);
        assert_eq!(hits(When::From(7)), [7, 8, 9]);
        assert_eq!(hits(When::Every).len(), 9);
        assert_eq!(hits(When::EveryKth(3)), [3, 6, 9]);
    }

    /// Each bad input is refused with a message that names the entry and says what is valid.
    #[test]
    fn bad_specs_name_the_token_and_what_is_valid() {
        let cases = [
            ("", "no faults given"),
            ("next=500,,", "fault `next=500,,`: an empty entry"),
            (
                "next",
                "fault `next`: an entry is KEY=FAULT[@WHEN]; valid: next=500|403|204",
            ),
            (
                "next=501@1",
                "fault `next=501@1`: `next` takes 500, 403, 204, cut, reset or close",
            ),
            (
                "response=200",
                "fault `response=200`: `response` takes 400, 403, 410, 413, 500",
            ),
            (
                "response=slow",
                "fault `response=slow`: `response=slow` is slow:BYTES/MS",
            ),
            ("response=slow:0/10", "both above 0"),
            ("response=slow:10/x", "slow:1024/10: 1 KiB every 10 ms"),
            (
                "headers=title",
                "fault `headers=title`: `headers` takes upper, mixed, empty or non-utf8",
            ),
            ("id=same", "fault `id=same`: `id` takes duplicate"),
            (
                "deadline=soon",
                "fault `deadline=soon`: `deadline` takes past",
            ),
            (
                "body=cut",
                "fault `body=cut`: unknown key `body`: the keys are next, response",
            ),
            (
                "next=500@0",
                "fault `next=500@0`: calls count from 1, not 0; @WHEN is N, N-M, N-, every or every:K",
            ),
            ("next=500@x", "`x` is not a call number"),
            ("next=500@4-2", "the range 4-2 ends before it starts"),
            ("next=500@every:0", "calls count from 1, not 0"),
            ("next=500@-3", "`` is not a call number"),
        ];
        for (spec, expected) in cases {
            let message = parse(spec).expect_err(spec);
            assert!(message.contains(expected), "{spec}: {message}");
        }
    }

    /// Each fault counts the calls its key says.
    #[test]
    fn faults_count_their_calls() {
        let faults = parse("next=500@2,response=413@2,id=duplicate@2,deadline=past@2").unwrap();
        let at = |c| faults.hitting(c, 2).collect::<Vec<_>>();
        assert_eq!(
            at(Counted::Events),
            [Fault::NextStatus(500), Fault::DeadlinePast]
        );
        assert_eq!(at(Counted::Answers), [Fault::ResponseStatus(413)]);
        assert_eq!(at(Counted::Queued), [Fault::DuplicateId]);
        assert!(faults.counts(Counted::Queued));
        assert!(!Faults::none().counts(Counted::Events));
    }
}
