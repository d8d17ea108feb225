namespace Guard.Tests.Onnx.Builder;

/// <summary>
/// The error measure of the builder tests: for one position, max_v |onnx[v] - reference[v]| / max_v |reference[v]|
/// (the largest absolute error relative to the largest reference logit of that position).
/// </summary>
internal static class LogitComparison
{
    public static double RelativeError(float[] actual, double[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        var maxDiff = 0.0;
        var maxRef = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.False(float.IsNaN(actual[i]) || float.IsInfinity(actual[i]), $"logit {i} is {actual[i]}");
            maxDiff = Math.Max(maxDiff, Math.Abs(actual[i] - expected[i]));
            maxRef = Math.Max(maxRef, Math.Abs(expected[i]));
        }

        Assert.True(maxRef > 0, "the reference logits are all zero");
        return maxDiff / maxRef;
    }

    /// <summary>Asserts the error bound and returns the error.</summary>
    public static double AssertClose(float[] actual, double[] expected, double tolerance, string what)
    {
        var error = RelativeError(actual, expected);
        Assert.True(error <= tolerance, $"{what}: relative error {error:E3} exceeds {tolerance:E1}");
        return error;
    }

    /// <summary>Asserts consecutive positions of one row, from slot <paramref name="firstSlot"/>, against the reference's
    /// logits of those positions, and returns the largest error.</summary>
    public static double AssertRowClose(OrtDecoder.Step step, int row, int firstSlot, IReadOnlyList<double[]> expected, double tolerance, string what)
    {
        var worst = 0.0;
        for (var p = 0; p < expected.Count; p++)
        {
            worst = Math.Max(worst, AssertClose(step.Row(row, firstSlot + p), expected[p], tolerance, $"{what} position {p}"));
        }

        return worst;
    }
}
