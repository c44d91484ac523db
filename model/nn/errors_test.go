package nn_test

import (
	"errors"
	"testing"

	"sscscore/model/nn"
)

// TestShapeErrors: shape mismatches are ShapeErrors, returned or as the
// value of a panic that PanicError turns into an error errors.As finds.
func TestShapeErrors(t *testing.T) {
	n := buildTiny(t, 1)
	p, err := nn.Compile(n, 1, nn.CompileOptions{})
	if err != nil {
		t.Fatalf("nn.Compile: got error %v, want nil", err)
	}
	for _, c := range []struct {
		name string
		run  func() error
	}{
		{"net input", func() error {
			_, err := nn.NewNetInput(n, make([]float32, 7), false)
			return err
		}},
		{"plan input", func() error {
			_, err := p.Run(make([]float32, 7))
			return err
		}},
		{"reshape panic", func() (err error) {
			defer func() { err = nn.PanicError(recover()) }()
			x, err := nn.NewInput(make([]float32, 12), nn.Shape{1, 12}, false)
			if err != nil {
				return err
			}
			x.Reshape(nn.Shape{1, 5})
			return nil
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			if se := new(nn.ShapeError); !errors.As(err, se) {
				t.Errorf("got error %v (%T), want an nn.ShapeError", err, err)
			}
		})
	}
}

// TestPanicError: PanicError keeps an error as it is and formats any
// other value.
func TestPanicError(t *testing.T) {
	want := errors.New("x")
	if got := nn.PanicError(want); got != want {
		t.Errorf("got %v, want the error itself", got)
	}
	if got := nn.PanicError("boom"); got == nil || got.Error() != "boom" {
		t.Errorf("got %v, want the error \"boom\"", got)
	}
}
