//! Types that parse rather than validate.

pub mod media;
