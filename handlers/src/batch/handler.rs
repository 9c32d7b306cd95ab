//! [`RecordHandler`]: a function from one decoded record, the record itself and the
//! invocation's `Context` to success or an error.

use coda_lambda::{Context, Diagnostic};

use super::decode::Decode;
use super::record::Record;
use super::source::Source;

/// Processes one record of a batch from source `S`, decoded as `T` ([`Decode`]).
///
/// Closures and functions `FnMut(T, &Record<S>, &mut Context) -> Result<(), E>` with
/// `E: Into<Diagnostic>` are record handlers already. Write the types of the arguments
/// (`|order: Order, record: &Record<Sqs>, ctx: &mut Context|`) and of the result
/// (`-> Result<(), Diagnostic>`): rustc cannot infer them for a closure stored before it is
/// called.
///
/// An `Err` or a panic fails this record only: it is reported in `batchItemFailures` and the
/// other records go on (unless an [`super::Order`] says otherwise).
///
/// ```
/// # #[cfg(feature = "sqs")] {
/// use coda_handlers::batch::{Record, RecordHandler, Sqs, Text};
/// use coda_lambda::{Context, Diagnostic};
///
/// struct Counter(usize);
///
/// impl RecordHandler<Sqs, Text> for Counter {
///     type Error = Diagnostic;
///
///     fn call(&mut self, body: Text, _: &Record<Sqs>, _: &mut Context) -> Result<(), Diagnostic> {
///         self.0 += body.0.len();
///         Ok(())
///     }
/// }
/// # }
/// ```
pub trait RecordHandler<S: Source, T: Decode<S>> {
    /// The error type: anything that converts into a [`Diagnostic`].
    type Error: Into<Diagnostic>;

    /// Processes one record: `data` is the record decoded as `T`, `record` the record itself.
    fn call(&mut self, data: T, record: &Record<S>, ctx: &mut Context) -> Result<(), Self::Error>;
}

impl<S, T, F, E> RecordHandler<S, T> for F
where
    S: Source,
    T: Decode<S>,
    F: FnMut(T, &Record<S>, &mut Context) -> Result<(), E>,
    E: Into<Diagnostic>,
{
    type Error = E;

    fn call(&mut self, data: T, record: &Record<S>, ctx: &mut Context) -> Result<(), E> {
        self(data, record, ctx)
    }
}
