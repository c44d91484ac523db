// Package nn is the CNN engine both sscscore networks run on: fast differentiable 2-D and 3-D
// convolutional layers written as spago autograd functions (github.com/nlpodyssey/spago),
// modules that are spago models with *spago/nn.Param parameters, a compiled inference path
// (Plan) for the browser, and safetensors weights in PyTorch's names and layouts.
//
// # Tensors and layout
//
// An activation is a Tensor: a spago graph node (Node: a *mat.Dense[T], an *nn.Param or an
// *ag.Operator) plus its logical Shape, batch first: (N, C, D, H, W) for volumes in z, y, x
// order, (N, C, H, W) for images, (N, C, L) for 1-D maps and (N, F) for features. The node's
// value is a *mat.Dense[T] of shape [N, C·D·H·W] whose backing slice is the flat row-major
// NCDHW buffer (spago matrices are 2-D; the shape lives in the Tensor). T is float32 for
// training and inference, float64 for gradient checks. Reshape/Flatten only relabel the shape.
//
// # Operations
//
// Each operation is a spago ag.AutoGradFunction (Forward, Backward, Operands) run with
// ag.NewOperator(f).Run(): Convolution (2-D/3-D, kernel, stride, asymmetric zero padding,
// optional bias; an implicit GEMM on packed weights, see package gemm), BatchNormalize
// (training statistics or running averages), ReLU, LeakyReLU, Sigmoid, ScaleShift, MaxPool,
// AvgPool, AdaptiveAvgPool (global average pooling is size 1), FullyConnected, Dropout, Add
// (residual), SoftArgmax (positions from 1-D heat maps) and Loss (MSE, SmoothL1, L1, optional
// per-element weights). Every backward pass is checked against central finite differences in
// float64 (gradcheck_test.go, net_test.go). Natively the products use all cores
// (gemm.Threads, GOMAXPROCS); under js/wasm everything runs on one thread.
//
// # Building a network
//
// Networks are declared as data in package spec and built by one builder:
//
//	s, _ := spec.Get(spec.Levels)                 // or spec.Parse(jsonBytes)
//	net, err := spec.Build(s, spec.Options{Seed: 1}) // *nn.Net, float32
//	stats, _ := spec.Count(s)                     // FLOPs, parameters, activation sizes
//
// A Net is a list of Layers (Conv, BatchNorm, Activation, Pool, AdaptivePool, Linear,
// DropoutLayer, Reshape, SoftArgmaxLayer, Affine, Residual), each a spago model whose
// parameters are *spago/nn.Param; Net.Params lists them, Net.StateDict names them.
//
// # Training step
//
//	opt := nn.NewAdam(adam.NewConfig(1e-3, 0.9, 0.999, 1e-8)) // spago's Adam, applied synchronously
//	ctx := nn.NewCtx(nn.Train, seed)                        // batch-stat BatchNorm, dropout on
//	x, _ := nn.NewNetInput(net, batchData, false)            // []float32, N × net.Input
//	y := net.Forward(ctx, x)
//	loss, _ := nn.Loss(nn.SmoothL1, y, targets, nil, 1)
//	_ = nn.Backward[float32](loss, nil)                      // ag.Backward on the scalar loss
//	_ = opt.Step(net.Params())                               // updates, clears grads; returns when done
//
// Do not use spago's optimizers.Optimizer.Optimize: it returns before its updates finish.
// Adam.Step calls the strategy's OptimizeParams on every parameter with a gradient (in
// parallel) and then IncExample. Evaluation-mode BatchNorm uses the running averages, which
// Train-mode forwards update (PyTorch momentum 0.1, unbiased variance).
//
// # Inference
//
//	plan, _ := nn.Compile(net, 1, nn.CompileOptions{}) // once; UpTo stops before a head
//	out, _ := plan.Run(volume)                          // []float32 in, []float32 out (reused)
//
// A Plan builds no graph and keeps no gradients: BatchNorm is folded into the convolutions,
// bias, activation, BatchNorm-after-ReLU and residual additions are fused into the
// convolution's output store, weights are packed once, and activations live in a few reused
// buffers that keep the zero halo their consumer convolution needs. Peak activation memory is
// at most 3 × the largest activation (Plan.ActivationBytes, checked in tests) plus weights.
// Plan results equal the evaluation-mode graph forward to float32 rounding and are
// deterministic (independent of the thread count). SoftArgmaxRows turns heat maps into
// positions and confidences.
//
// # Gradients for heat maps
//
// Input gradients and Grad-CAM use the graph in evaluation mode:
//
//	x, _ := nn.NewNetInput(net, volume, true)     // requires grad
//	acts := net.ForwardAll(nn.NewCtx(nn.Eval, 0), x) // output of every top-level layer
//	out := acts[len(acts)-1]
//	_ = nn.Backward(out, seed)                     // seed: ∂L/∂out, e.g. one-hot on a score
//	gx := nn.Grad[float32](x)                      // ∂score/∂input (NCDHW)
//	ga := nn.Grad[float32](acts[k])                // ∂score/∂activation k; nn.Data for its values
//
// # Weights
//
// Net.WriteSafetensors and Net.LoadSafetensors use github.com/nlpodyssey/safetensors with
// PyTorch's state_dict names (from the spec's layer names) and layouts: convolution weights
// O, I, [kD,] kH, kW; BatchNorm weight, bias, running_mean, running_var, num_batches_tracked;
// linear weights out × in. A PyTorch state_dict of the same architecture saved with
// safetensors.torch.save_file loads unchanged (F32, F16, BF16 or F64); weights can be written
// as F16 to halve the download.
package nn
