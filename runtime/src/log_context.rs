//! What a log line carries besides its message: the request id of the invocation the thread
//! serves, and keys added to JSON lines — persistent keys (every line from now on) and keys for
//! one invocation (its lines, on whichever thread writes them, until it ends), what AWS Lambda
//! Powertools users know as persistent and appended keys. Text lines do not carry the keys.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

thread_local! {
    static REQUEST_ID: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
}

/// The request id of the invocation the current thread serves: the loop's thread during the
/// handler call, and the threads that run its deferred and spawned work. `None` elsewhere.
pub fn request_id() -> Option<Arc<str>> {
    REQUEST_ID.with(|cell| cell.borrow().clone())
}

/// Sets (or clears) the request id log lines from this thread carry.
pub(crate) fn set_request_id(id: Option<Arc<str>>) {
    REQUEST_ID.with(|cell| *cell.borrow_mut() = id);
}

/// A list of keys and their values, in the order they were added.
type KeyList = Vec<(String, Value)>;

/// The keys Coda's JSON lines always have: a key of that name is refused.
const RESERVED: [&str; 4] = ["timestamp", "level", "message", "requestId"];

/// Whether any key is set (the fast path of every line).
static ANY: AtomicBool = AtomicBool::new(false);
static KEYS: Mutex<Keys> = Mutex::new(Keys {
    persistent: Vec::new(),
    per_invocation: None,
});

struct Keys {
    persistent: KeyList,
    per_invocation: Option<HashMap<Arc<str>, KeyList>>,
}

fn keys() -> MutexGuard<'static, Keys> {
    KEYS.lock().unwrap_or_else(|e| e.into_inner())
}

fn set(list: &mut KeyList, key: String, value: Value) {
    match list.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => entry.1 = value,
        None => list.push((key, value)),
    }
}

/// Whether `key` may be added; a reserved one is logged and refused.
fn allowed(key: &str) -> bool {
    let ok = !RESERVED.contains(&key);
    if !ok {
        log::warn!(
            "log key {key:?} is one of Coda's own (timestamp, level, message, requestId): not added"
        );
    }
    ok
}

/// Adds `key` to every JSON log line from now on, in every thread (replacing an earlier
/// value). Keys named like Coda's own (`timestamp`, `level`, `message`, `requestId`) are
/// refused with a warning.
///
/// ```
/// coda_lambda::logging::persist_key("service", "orders");
/// coda_lambda::logging::persist_key("coldStart", true);
/// ```
pub fn persist_key(key: impl Into<String>, value: impl Into<Value>) {
    let key = key.into();
    if allowed(&key) {
        set(&mut keys().persistent, key, value.into());
        ANY.store(true, Ordering::SeqCst);
    }
}

/// Adds `key` to the JSON log lines of the invocation the current thread serves — its
/// handler's, its deferred work's — until that invocation ends. Outside an invocation it does
/// nothing (and says so at debug level).
pub fn append_key(key: impl Into<String>, value: impl Into<Value>) {
    let key = key.into();
    let Some(id) = request_id() else {
        log::debug!("log key {key:?} not added: no invocation on this thread");
        return;
    };
    if allowed(&key) {
        let mut keys = keys();
        let list = keys
            .per_invocation
            .get_or_insert_with(HashMap::new)
            .entry(id)
            .or_default();
        set(list, key, value.into());
        ANY.store(true, Ordering::SeqCst);
    }
}

/// Removes `key`, persistent or of the current invocation.
pub fn remove_key(key: &str) {
    let id = request_id();
    let mut keys = keys();
    keys.persistent.retain(|(k, _)| k != key);
    if let (Some(id), Some(map)) = (id, keys.per_invocation.as_mut())
        && let Some(list) = map.get_mut(&id)
    {
        list.retain(|(k, _)| k != key);
    }
}

/// The invocation `id` ended: its keys go.
pub(crate) fn forget(id: &str) {
    if ANY.load(Ordering::Relaxed)
        && let Some(map) = keys().per_invocation.as_mut()
    {
        map.remove(id);
    }
}

/// Calls `write` with the keys a line for invocation `id` carries: the persistent ones, then
/// the invocation's (which win over a persistent key of the same name).
pub(crate) fn with_keys<R>(id: Option<&str>, write: impl FnOnce(&[(String, Value)]) -> R) -> R {
    if !ANY.load(Ordering::Relaxed) {
        return write(&[]);
    }
    let keys = keys();
    let own = id.and_then(|id| keys.per_invocation.as_ref()?.get(id));
    match own {
        None => write(&keys.persistent),
        Some(own) => {
            let mut all: KeyList = keys
                .persistent
                .iter()
                .filter(|(k, _)| !own.iter().any(|(o, _)| o == k))
                .cloned()
                .collect();
            all.extend(own.iter().cloned());
            write(&all)
        }
    }
}
