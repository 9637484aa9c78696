//! Evidence files: sniffed by magic bytes, images sanitized. (Being written.)
