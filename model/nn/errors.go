package nn

import (
	"fmt"

	"sscscore/model/nn/gemm"
)

// A ShapeError reports tensors, weights or inputs whose shapes do not fit
// an operation. Operations on tensors panic with a ShapeError, as gonum's
// mat panics with mat.ErrShape; functions that return errors return it
// (possibly wrapped). It is gemm's type, so the panics of both packages
// are told apart from other failures in the same way.
type ShapeError = gemm.ShapeError

// PanicError returns the value r of a recovered panic as an error, for an
// API boundary that turns the panics of a network run into errors: an
// error (such as a ShapeError, or a runtime error) as it is, so that
// errors.As finds it; any other value formatted; nil (no panic) as nil.
func PanicError(r any) error {
	if r == nil {
		return nil
	}
	if err, ok := r.(error); ok {
		return err
	}
	return fmt.Errorf("%v", r)
}
