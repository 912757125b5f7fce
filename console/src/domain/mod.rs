//! Pure domain logic, no I/O: log-line parsing, statistics, alarm summaries, the SSE gap
//! analysis with its BUFFERED rule, and the probe's findings and exit codes.

pub(crate) mod alarms;
pub mod billed;
pub mod bundle;
pub mod canary;
pub mod cost;
pub mod cost_document;
pub mod cost_inputs;
pub mod files;
pub mod findings;
pub mod frontend;
pub mod leftovers;
pub mod loglines;
pub(crate) mod logs;
pub mod pricelist;
pub mod prices;
pub mod sse;
pub mod stall;
pub(crate) mod stats;
pub mod window;
