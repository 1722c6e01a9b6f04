//! One integration-test binary (ripgrep style): the harness in `util`, then one module per area.

mod util;

mod cli;
mod corpus;
