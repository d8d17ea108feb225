var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
app.MapGet("/", () => "ok");
app.Run();

/// <summary>Entry point, kept partial for test hosts.</summary>
public partial class Program { }
