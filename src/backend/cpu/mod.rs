pub mod radix;
