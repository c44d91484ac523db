package cascade

// Fork returns a cascade of the same networks, level decoding and
// provenance with inference plans of its own: evaluations on c and on the
// fork run at the same time (Cascade serialises its own). Batch scoring
// gives each worker a fork.
func (c *Cascade) Fork() *Cascade { return c.WithLevelPrior(c.prior) }
