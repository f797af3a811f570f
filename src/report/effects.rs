//! What the faults did: counts that prove a run's faults took effect.

use std::fmt;

/// Counters of fault effects, summed over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Effects {
    /// Frames sent over a cut link (turmoil dropped them).
    pub dropped_by_partition: u64,
    /// Frames in flight when their link was cut (turmoil cleared them).
    pub dropped_in_flight: u64,
    /// Frames lost to random message loss.
    pub dropped_by_loss: u64,
    /// Frames sent twice.
    pub duplicated: u64,
    /// Frames the sender held back for a random time.
    pub delayed: u64,
    /// Held frames delivered after a frame sent later than them.
    pub reordered: u64,
    /// Frames parked by a held link.
    pub held: u64,
    /// Process crashes that hit a running node.
    pub crashes: u64,
    /// Power losses that hit a running node.
    pub power_losses: u64,
    /// Unsynced disk writes lost to power loss.
    pub lost_writes: u64,
    /// Power losses that tore a log's tail (an append cut short).
    pub torn_tails: u64,
    /// Restarts of a stopped node.
    pub restarts: u64,
    /// Garbage frames sent into nodes.
    pub garbage: u64,
    /// Forged messages delivered to nodes (received by their transport).
    #[serde(default)]
    pub forged: u64,
    /// Simulated milliseconds summed over nodes while a node was down.
    pub node_down_ms: u64,
    /// Crash points armed (`crash nX at POINT`).
    pub points_armed: u64,
    /// Armed crash points a node passed, crashing there (counted in `crashes` or
    /// `power_losses` too).
    pub points_fired: u64,
    /// Times `buggify!()` returned true.
    pub buggified: u64,
    /// Frames that went on the wire with one bit flipped (`corrupt P%`).
    pub corrupted: u64,
    /// Frames a receiver's transport rejected: truncated, failing their checksum, or not
    /// decoding as its message type (corrupted frames and garbage).
    pub rejected: u64,
    /// Bits flipped in what nodes had synced to their disks (`corrupt-disk nX`).
    pub disk_corruptions: u64,
    /// Cuts and heals the nemeses made (`bounce leader`, `flap`, `bridge`, `ring`,
    /// `isolate primaries`).
    pub nemesis_moves: u64,
    /// `bounce leader` runs in which leadership returned to the first leader.
    pub bounced: u64,
    /// Changes made to node clocks by `skew`, `spread clocks` (one per node) and `drift`
    /// steps.
    #[serde(default)]
    pub clock_changes: u64,
    /// Clock readings nodes took while a clock fault showed in them (a drifting rate, a wall
    /// clock off true time): zero if the system never read a faulty clock.
    #[serde(default)]
    pub clock_faulty_reads: u64,
    /// The widest spread between two nodes' wall clocks at any instant, in milliseconds; the
    /// largest of any run when runs are added up.
    #[serde(default)]
    pub clock_divergence_ms: u64,
}

impl Effects {
    /// Frames lost for any reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_by_partition + self.dropped_in_flight + self.dropped_by_loss
    }

    /// Whether any fault did anything at all.
    pub fn any(&self) -> bool {
        *self != Effects::default()
    }

    /// Adds another run's counts.
    pub fn add(&mut self, o: &Effects) {
        self.dropped_by_partition += o.dropped_by_partition;
        self.dropped_in_flight += o.dropped_in_flight;
        self.dropped_by_loss += o.dropped_by_loss;
        self.duplicated += o.duplicated;
        self.delayed += o.delayed;
        self.reordered += o.reordered;
        self.held += o.held;
        self.crashes += o.crashes;
        self.power_losses += o.power_losses;
        self.lost_writes += o.lost_writes;
        self.torn_tails += o.torn_tails;
        self.restarts += o.restarts;
        self.garbage += o.garbage;
        self.forged += o.forged;
        self.node_down_ms += o.node_down_ms;
        self.points_armed += o.points_armed;
        self.points_fired += o.points_fired;
        self.buggified += o.buggified;
        self.corrupted += o.corrupted;
        self.rejected += o.rejected;
        self.disk_corruptions += o.disk_corruptions;
        self.nemesis_moves += o.nemesis_moves;
        self.bounced += o.bounced;
        self.clock_changes += o.clock_changes;
        self.clock_faulty_reads += o.clock_faulty_reads;
        // A maximum, not a sum: how far apart clocks ever were.
        self.clock_divergence_ms = self.clock_divergence_ms.max(o.clock_divergence_ms);
    }
}

impl fmt::Display for Effects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "dropped={} (partition {}, in-flight {}, loss {}) duplicated={} delayed={} held={} reordered={} \
             crashes={} power-losses={} lost-writes={} torn-tails={} restarts={} down={}ms garbage={}",
            self.dropped(),
            self.dropped_by_partition,
            self.dropped_in_flight,
            self.dropped_by_loss,
            self.duplicated,
            self.delayed,
            self.held,
            self.reordered,
            self.crashes,
            self.power_losses,
            self.lost_writes,
            self.torn_tails,
            self.restarts,
            self.node_down_ms,
            self.garbage
        )?;
        // Shown only when used, so that verdicts of scenarios without them read as before.
        if self.points_armed > 0 {
            write!(
                f,
                " crash-points={} (fired {})",
                self.points_armed, self.points_fired
            )?;
        }
        if self.buggified > 0 {
            write!(f, " buggified={}", self.buggified)?;
        }
        // Only when there were any, so that the line of a run without forgeries (and every
        // corpus snapshot taken before forgeries existed) stays as it was.
        if self.forged > 0 {
            write!(f, " forged={}", self.forged)?;
        }
        // With corruption only: garbage frames are rejected too, and a line of a run with
        // garbage but no corruption (and its snapshot) stays as it was.
        if self.corrupted > 0 {
            write!(
                f,
                " corrupted={} rejected={}",
                self.corrupted, self.rejected
            )?;
        }
        if self.disk_corruptions > 0 {
            write!(f, " disk-corruptions={}", self.disk_corruptions)?;
        }
        if self.nemesis_moves > 0 {
            write!(
                f,
                " nemesis-moves={} (bounced {})",
                self.nemesis_moves, self.bounced
            )?;
        }
        if self.clock_changes > 0 {
            write!(
                f,
                " clock-changes={} (faulty-reads {}, divergence {}ms)",
                self.clock_changes, self.clock_faulty_reads, self.clock_divergence_ms
            )?;
        }
        Ok(())
    }
}
