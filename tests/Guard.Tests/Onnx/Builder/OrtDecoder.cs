using Guard.Onnx.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Guard.Tests.Onnx.Builder;

/// <summary>Runs a built model directory with an ONNX Runtime CPU session, feeding the present KV back as past.</summary>
internal sealed class OrtDecoder : IDisposable
{
    private readonly RunOptions _run = new();

    public OrtDecoder(string modelDirectory)
    {
        Manifest = ModelManifest.Read(modelDirectory);
        Session = new InferenceSession(Path.Combine(modelDirectory, Manifest.Graph));
    }

    public ModelManifest Manifest { get; }

    public InferenceSession Session { get; }

    public bool IsFloat16 => Manifest.DType == OnnxDTypeNames.Float16;

    /// <summary>Runs one step. Rows of <paramref name="ids"/> and <paramref name="positions"/> are [batch][seq]; the mask is
    /// [batch][prefix + past + seq]. <paramref name="prefix"/>: a batch-1 step whose presents feed a shared-prefix graph's
    /// <c>prefix_key_values.*</c> (empty when null).</summary>
    public Step Run(long[][] ids, long[][] mask, long[][] positions, Step? past, Step? prefix = null)
    {
        var c = Manifest.Config;
        int batch = ids.Length, seq = ids[0].Length;
        var names = new List<string> { "input_ids", "attention_mask", "position_ids" };
        var owned = new List<OrtValue>
        {
            Tensor(ids, [batch, seq]),
            Tensor(mask, [batch, mask[0].Length]),
            Tensor(positions, [batch, seq]),
        };
        var values = new List<OrtValue>(owned);
        var type = IsFloat16 ? TensorElementType.Float16 : TensorElementType.Float;
        for (var i = 0; i < c.NumLayers; i++)
        {
            foreach (var (name, index) in new[] { ($"past_key_values.{i}.key", 2 * i), ($"past_key_values.{i}.value", (2 * i) + 1) })
            {
                names.Add(name);
                if (past is null)
                {
                    var empty = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, type, [batch, c.NumKvHeads, 0, c.HeadDim]);
                    owned.Add(empty);
                    values.Add(empty);
                }
                else
                {
                    values.Add(past.Presents[index]);
                }
            }
        }

        if (Session.InputMetadata.ContainsKey("prefix_key_values.0.key"))
        {
            for (var i = 0; i < c.NumLayers; i++)
            {
                foreach (var (name, index) in new[] { ($"prefix_key_values.{i}.key", 2 * i), ($"prefix_key_values.{i}.value", (2 * i) + 1) })
                {
                    names.Add(name);
                    if (prefix is null)
                    {
                        var empty = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, type, [1, c.NumKvHeads, 0, c.HeadDim]);
                        owned.Add(empty);
                        values.Add(empty);
                    }
                    else
                    {
                        values.Add(prefix.Presents[index]);
                    }
                }
            }
        }

        try
        {
            var outputs = Session.Run(_run, names, values, Session.OutputNames);
            return new Step(outputs, IsFloat16);
        }
        finally
        {
            foreach (var value in owned)
            {
                value.Dispose();
            }
        }
    }

    public void Dispose()
    {
        Session.Dispose();
        _run.Dispose();
    }

    private static OrtValue Tensor(long[][] rows, long[] shape) =>
        OrtValue.CreateTensorValueFromMemory(rows.SelectMany(r => r).ToArray(), shape);

    internal sealed class Step : IDisposable
    {
        private readonly IDisposableReadOnlyCollection<OrtValue> _outputs;

        public Step(IDisposableReadOnlyCollection<OrtValue> outputs, bool float16)
        {
            _outputs = outputs;
            var logits = outputs[0];
            LogitsShape = logits.GetTensorTypeAndShape().Shape;
            Logits = float16
                ? [.. logits.GetTensorDataAsSpan<Float16>().ToArray().Select(h => h.ToFloat())]
                : logits.GetTensorDataAsSpan<float>().ToArray();
            Presents = [.. outputs.Skip(1)];
        }

        /// <summary>Logits, row-major [batch, seq or 1, vocab].</summary>
        public float[] Logits { get; }

        public long[] LogitsShape { get; }

        /// <summary>present.{i}.key, present.{i}.value in layer order.</summary>
        public IReadOnlyList<OrtValue> Presents { get; }

        public long[] PresentShape(int index) => Presents[index].GetTensorTypeAndShape().Shape;

        /// <summary>The logits row of one batch row and position.</summary>
        public float[] Row(int batch, int position)
        {
            var vocab = (int)LogitsShape[2];
            var offset = ((batch * (int)LogitsShape[1]) + position) * vocab;
            return Logits.AsSpan(offset, vocab).ToArray();
        }

        public void Dispose() => _outputs.Dispose();
    }
}
