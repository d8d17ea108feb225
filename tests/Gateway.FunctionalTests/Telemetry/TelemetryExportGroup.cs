namespace Gateway.FunctionalTests.Telemetry;

/// <summary>Tests that count what a gateway exports. Activity and meter listeners are process-wide, so a gateway
/// that exports also sees other gateways running in the same process: these tests run alone, after the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryExportGroup
{
    public const string Name = "Telemetry export";
}
