using Gateway.Hosting;

return await GatewayCli.RunAsync(args);

/// <summary>Entry point; partial so test hosts can reference it.</summary>
public partial class Program;
