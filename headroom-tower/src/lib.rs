//! Tower middleware door into the Headroom engine.
