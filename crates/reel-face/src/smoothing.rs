//! The One Euro filter (Casiez, Roussel and Vogel, CHI 2012) for landmarks: heavy smoothing when a
//! face holds still, little lag when it moves.

/// Filter settings; values are measured in face sizes so that one setting suits any face size.
#[derive(Clone, Copy, Debug)]
pub struct OneEuro {
    /// Cut-off frequency at rest, in Hz: lower removes more jitter.
    pub min_cutoff: f32,
    /// How fast the cut-off rises with speed: higher follows fast motion with less lag.
    pub beta: f32,
    /// Cut-off for the speed estimate, in Hz.
    pub derivative_cutoff: f32,
}

impl Default for OneEuro {
    fn default() -> Self {
        OneEuro {
            min_cutoff: 0.5,
            beta: 20.0,
            derivative_cutoff: 1.0,
        }
    }
}

fn alpha(cutoff: f32, dt: f32) -> f32 {
    let tau = 1.0 / (2.0 * std::f32::consts::PI * cutoff);
    1.0 / (1.0 + tau / dt)
}

/// Filter state for a set of values (for example 468 x 3 coordinates).
#[derive(Clone, Debug, Default)]
pub struct OneEuroState {
    value: Vec<f32>,
    speed: Vec<f32>,
    last_time: Option<f64>,
}

impl OneEuroState {
    /// Filters `values` in place, sampled at `time` seconds; `scale` is the face size in pixels.
    pub fn filter(&mut self, params: &OneEuro, time: f64, scale: f32, values: &mut [f32]) {
        let Some(last) = self.last_time.filter(|_| self.value.len() == values.len()) else {
            self.value = values.to_vec();
            self.speed = vec![0.0; values.len()];
            self.last_time = Some(time);
            return;
        };
        let dt = (time - last).max(1e-3) as f32;
        self.last_time = Some(time);
        let inv_scale = 1.0 / scale.max(1.0);
        let a_d = alpha(params.derivative_cutoff, dt);
        for ((v, prev), speed) in values
            .iter_mut()
            .zip(self.value.iter_mut())
            .zip(self.speed.iter_mut())
        {
            let raw_speed = (*v - *prev) * inv_scale / dt;
            *speed += a_d * (raw_speed - *speed);
            let cutoff = params.min_cutoff + params.beta * speed.abs();
            *prev += alpha(cutoff, dt) * (*v - *prev);
            *v = *prev;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_shrinks_and_steps_are_followed() {
        let p = OneEuro::default();
        let mut s = OneEuroState::default();
        let mut out = Vec::new();
        for i in 0..60 {
            let mut v = [100.0 + if i % 2 == 0 { 0.5 } else { -0.5 }];
            s.filter(&p, i as f64 / 30.0, 100.0, &mut v);
            out.push(v[0]);
        }
        let late_jitter = (out[58] - out[59]).abs();
        assert!(late_jitter < 0.5, "jitter {late_jitter} was not reduced");
        for i in 60..90 {
            let mut v = [150.0];
            s.filter(&p, i as f64 / 30.0, 100.0, &mut v);
            out.push(v[0]);
        }
        assert!(
            (out[89] - 150.0).abs() < 1.0,
            "step not followed: {}",
            out[89]
        );
    }
}
