package gemm

// A ShapeError reports operands whose sizes do not fit the operation. It is
// the value of gemm's panics (and of package nn's, where it is
// nn.ShapeError), so that a caller that recovers can tell a shape mismatch
// from other failures with errors.As.
type ShapeError string

// Error implements error.
func (e ShapeError) Error() string { return string(e) }
