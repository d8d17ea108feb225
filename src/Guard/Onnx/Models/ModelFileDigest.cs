using System.Text.Json.Serialization;

namespace Guard.Onnx.Models;

/// <summary>One file a model's <see cref="ModelManifest.WeightsSha256"/> covers, as the builder wrote it.</summary>
public sealed record ModelFileDigest
{
    /// <summary>The file's path relative to the model directory, with <c>/</c> separators (for example <c>model.onnx.data</c>).</summary>
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>The file's length in bytes.</summary>
    [JsonPropertyName("length")] public required long Length { get; init; }

    /// <summary>The SHA-256 of the file's bytes, 64 lowercase hex digits.</summary>
    [JsonPropertyName("sha256")] public required string Sha256 { get; init; }
}
