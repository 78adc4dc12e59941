//! Noise schedules and their steps, matching diffusers step for step.
