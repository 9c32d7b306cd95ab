//! Handler tests on the real loop.
