//! The authoritative backend of Children of the Singularity.
