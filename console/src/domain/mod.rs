//! Pure domain logic, no I/O: log-line parsing, statistics, alarm summaries, the SSE gap
//! analysis with its BUFFERED rule, and the probe's findings and exit codes.

pub mod alarms;
pub mod findings;
pub mod logs;
pub mod sse;
pub mod stats;
