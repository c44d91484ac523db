package cascade

import (
	"errors"
	"testing"

	"sscscore/model/nn"
)

// TestForwardShapeError: a network run on an input of the wrong size or
// shape fails with an error through which errors.As finds nn.ShapeError.
func TestForwardShapeError(t *testing.T) {
	c := defaultCascade(t)
	for _, tc := range []struct {
		name  string
		x     []float32
		shape nn.Shape
	}{
		{"values for another shape", make([]float32, 10), nn.Shape{1, 2, SliceSide, SliceSide}},
		{"three channels", make([]float32, 3*16*16), nn.Shape{1, 3, 16, 16}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.forward(c.scores, tc.x, tc.shape)
			if !errors.As(err, new(nn.ShapeError)) {
				t.Errorf("got error %v, want one with an nn.ShapeError", err)
			}
		})
	}
}
