namespace Functional.Models;

/// <summary>
/// torchvision's ResNet-18 written in the DSL. Each block is a <see cref="Module"/>: named children
/// for PyTorch's printout and state_dict names (<c>layer1.0.conv1.weight</c>,
/// <c>layer2.0.downsample.0.weight</c>), computing a <see cref="Combine.Residual"/> of them.
/// </summary>
public static class ResNet
{
    /// <summary>
    /// torchvision's <c>BasicBlock</c>: <c>relu(bn2(conv2(relu(bn1(conv1(x))))) + downsample(x))</c>,
    /// the downsample a 1×1 strided convolution and a norm when the shape changes.
    /// </summary>
    public static Module BasicBlock(Weights w, int inPlanes, int planes, int stride = 1)
    {
        var conv1 = Conv2d.Load(w.At("conv1"), inPlanes, planes, 3, stride: stride, padding: 1, bias: false);
        var bn1 = BatchNorm2d.Load(w.At("bn1"), planes);
        var relu = new ReLU { Inplace = true };
        var conv2 = Conv2d.Load(w.At("conv2"), planes, planes, 3, padding: 1, bias: false);
        var bn2 = BatchNorm2d.Load(w.At("bn2"), planes);
        List<(string, Layer)> children = [("conv1", conv1), ("bn1", bn1), ("relu", relu), ("conv2", conv2), ("bn2", bn2)];
        Layer? downsample = null;
        if (stride != 1 || inPlanes != planes)
        {
            downsample = Sequential.Nested(
                Conv2d.Load(w.At("downsample").At("0"), inPlanes, planes, 1, stride: stride, bias: false),
                BatchNorm2d.Load(w.At("downsample").At("1"), planes));
            children.Add(("downsample", downsample));
        }
        return new Module("BasicBlock", children, Combine.Residual(conv1 >> bn1 >> relu >> conv2 >> bn2, downsample) >> relu);
    }

    /// <summary>
    /// torchvision's <c>resnet18(num_classes)</c>, weights from <paramref name="w"/> by their torchvision
    /// names. <paramref name="width"/> is the first stage's channel count (torchvision's 64; the
    /// stages have width, 2×, 4×, 8×): a smaller one gives the same network, narrower, for tests.
    /// </summary>
    public static Module ResNet18(Weights w, int numClasses = 1000, int width = 64)
    {
        var conv1 = Conv2d.Load(w.At("conv1"), 3, width, 7, stride: 2, padding: 3, bias: false);
        var bn1 = BatchNorm2d.Load(w.At("bn1"), width);
        var relu = new ReLU { Inplace = true };
        var maxpool = new MaxPool2d(3, stride: 2, padding: 1);
        Sequential Stage(string name, int inPlanes, int planes, int stride) => Sequential.Nested(
            BasicBlock(w.At(name).At("0"), inPlanes, planes, stride),
            BasicBlock(w.At(name).At("1"), planes, planes));
        var layer1 = Stage("layer1", width, width, 1);
        var layer2 = Stage("layer2", width, 2 * width, 2);
        var layer3 = Stage("layer3", 2 * width, 4 * width, 2);
        var layer4 = Stage("layer4", 4 * width, 8 * width, 2);
        var avgpool = new AdaptiveAvgPool2d(1, 1);
        var fc = Linear.Load(w.At("fc"), 8 * width, numClasses);
        return new Module("ResNet",
            [("conv1", conv1), ("bn1", bn1), ("relu", relu), ("maxpool", maxpool),
             ("layer1", layer1), ("layer2", layer2), ("layer3", layer3), ("layer4", layer4), ("avgpool", avgpool), ("fc", fc)],
            conv1 >> bn1 >> relu >> maxpool >> layer1 >> layer2 >> layer3 >> layer4 >> avgpool >> new Flatten(1) >> fc);
    }
}
