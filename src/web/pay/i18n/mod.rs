//! The page's strings, one file per language (see `lang::Strings`).

pub mod en;
pub mod kk;
pub mod ru;
pub mod uz;
