//! The networks, one a file, each reading its weights by the names diffusers gives them.
