//! One integration-test binary (ripgrep style): the harness in `util`, then one module per area.

mod sarif;
mod util;

mod cli;
mod corpus;
mod fail_closed;
mod hostile;
mod images;
mod integrations;
mod properties;
mod sarif_report;
