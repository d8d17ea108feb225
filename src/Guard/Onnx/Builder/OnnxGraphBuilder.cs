using System.Globalization;
using System.Runtime.InteropServices;

namespace Guard.Onnx.Builder;

/// <summary>
/// Appends nodes (ai.onnx, and ONNX Runtime's com.microsoft contrib operators) to a graph in topological order, naming
/// every node and value uniquely and sharing small constant initializers (shapes, axes, scalars).
/// </summary>
internal sealed class OnnxGraphBuilder(string name)
{
    /// <summary>The domain of ONNX Runtime's contrib operators.</summary>
    public const string ContribDomain = "com.microsoft";

    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private int _next;

    public OnnxGraphProto Graph { get; } = new(name);

    /// <summary>The prefix of the names of nodes added next (for example <c>/model/layers.3/attn</c>).</summary>
    public string Scope { get; set; } = string.Empty;

    public void Input(string valueName, OnnxDataType type, params object[] dims) => Graph.Inputs.Add(new OnnxValueInfoProto(valueName, type, dims));

    public void Output(string valueName, OnnxDataType type, params object[] dims) => Graph.Outputs.Add(new OnnxValueInfoProto(valueName, type, dims));

    public string Initializer(OnnxTensorProto tensor)
    {
        Graph.Initializers.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Adds a node with one output and returns the output's name (<paramref name="output"/> when given).</summary>
    public string Node(string opType, IReadOnlyList<string> inputs, string? output = null, params OnnxAttributeProto[] attributes)
    {
        var id = _next++;
        var nodeName = string.Create(CultureInfo.InvariantCulture, $"{Scope}/{opType}_{id}");
        output ??= nodeName + "/output_0";
        Graph.Nodes.Add(new OnnxNodeProto(nodeName, opType, inputs, [output], attributes));
        return output;
    }

    /// <summary>Adds a node with several outputs and returns their names: a null entry of <paramref name="outputs"/> gets
    /// a generated name, an empty one leaves that optional output unused.</summary>
    public string[] Node(string opType, string domain, IReadOnlyList<string> inputs, IReadOnlyList<string?> outputs, params OnnxAttributeProto[] attributes)
    {
        var id = _next++;
        var nodeName = string.Create(CultureInfo.InvariantCulture, $"{Scope}/{opType}_{id}");
        var names = new string[outputs.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = outputs[i] ?? string.Create(CultureInfo.InvariantCulture, $"{nodeName}/output_{i}");
        }

        Graph.Nodes.Add(new OnnxNodeProto(nodeName, opType, inputs, names, attributes, domain));
        return names;
    }

    public string Int64s(params long[] values) =>
        Constant("i64", OnnxDataType.Int64, [values.Length], MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), values);

    public string Int64Scalar(long value) =>
        Constant("i64s", OnnxDataType.Int64, [], BitConverter.GetBytes(value), [value]);

    /// <summary>A scalar of <paramref name="type"/> (<see cref="OnnxDataType.Float"/> or <see cref="OnnxDataType.Float16"/>).</summary>
    public string FloatScalar(float value, OnnxDataType type) => type == OnnxDataType.Float16
        ? Constant("f16s", type, [], BitConverter.GetBytes((Half)value), [BitConverter.SingleToInt32Bits(value)])
        : Constant("f32s", type, [], BitConverter.GetBytes(value), [BitConverter.SingleToInt32Bits(value)]);

    public string MatMul(string a, string b) => Node("MatMul", [a, b]);

    public string Add(string a, string b, string? output = null) => Node("Add", [a, b], output);

    public string Sub(string a, string b) => Node("Sub", [a, b]);

    public string Mul(string a, string b) => Node("Mul", [a, b]);

    public string Div(string a, string b) => Node("Div", [a, b]);

    public string Pow(string a, string b) => Node("Pow", [a, b]);

    public string Sqrt(string x) => Node("Sqrt", [x]);

    public string Neg(string x) => Node("Neg", [x]);

    public string Sigmoid(string x) => Node("Sigmoid", [x]);

    public string Cast(string x, OnnxDataType to) => Node("Cast", [x], null, OnnxAttributeProto.Int("to", (long)to));

    public string Reshape(string x, params long[] shape) => Node("Reshape", [x, Int64s(shape)]);

    public string Transpose(string x, params long[] perm) => Node("Transpose", [x], null, OnnxAttributeProto.Ints("perm", perm));

    public string Unsqueeze(string x, params long[] axes) => Node("Unsqueeze", [x, Int64s(axes)]);

    public string Slice(string x, long start, long end, long axis) =>
        Node("Slice", [x, Int64s(start), Int64s(end), Int64s(axis)]);

    public string Concat(long axis, string a, string b, string? output = null) =>
        Node("Concat", [a, b], output, OnnxAttributeProto.Int("axis", axis));

    public string Gather(string data, string indices, long axis = 0) =>
        Node("Gather", [data, indices], null, OnnxAttributeProto.Int("axis", axis));

    public string Softmax(string x, long axis) => Node("Softmax", [x], null, OnnxAttributeProto.Int("axis", axis));

    public string ReduceMean(string x, long axis) =>
        Node("ReduceMean", [x], null, OnnxAttributeProto.Ints("axes", axis), OnnxAttributeProto.Int("keepdims", 1));

    private string Constant(string kind, OnnxDataType type, long[] dims, byte[] bytes, IEnumerable<long> key)
    {
        var cacheKey = string.Create(CultureInfo.InvariantCulture, $"{kind}:{dims.Length}:{string.Join(',', key)}");
        if (!_constants.TryGetValue(cacheKey, out var constant))
        {
            constant = string.Create(CultureInfo.InvariantCulture, $"/const/{kind}_{_constants.Count}");
            Initializer(OnnxTensorProto.Inline(constant, type, dims, bytes.Length, () => bytes));
            _constants.Add(cacheKey, constant);
        }

        return constant;
    }
}
