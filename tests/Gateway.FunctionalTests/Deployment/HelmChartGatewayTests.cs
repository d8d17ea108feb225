using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Policies.Store;

namespace Gateway.FunctionalTests.Deployment;

/// <summary>The configuration the chart renders starts the real gateway, which loads its policies from the mounted
/// ConfigMap and reloads them in place when the ConfigMap changes (the kubelet's link swap), without a rollout.</summary>
public sealed class HelmChartGatewayTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-chart-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("values.yaml", 1)]
    [InlineData("examples/values-sidecar.yaml", 1)]
    [InlineData("examples/values-scale-out.yaml", 2)]
    public async Task RenderedConfiguration_StartsTheGateway_WithThePoliciesOfTheMountedConfigMap(string values, int policyCount)
    {
        var chart = await HelmChart.TemplateAsync("-f", Path.Combine(HelmChart.ChartDirectory, values));
        await using var pod = await ChartPod.StartAsync(chart, _directory);

        var policies = (await pod.ReadyAsync()).GetProperty("checks").GetProperty("policies");
        Assert.Equal("Healthy", policies.GetProperty("status").GetString());
        Assert.Equal(policyCount, policies.GetProperty("data").GetProperty("policies").GetInt32());
        var files = policies.GetProperty("data").GetProperty("files").GetString()!.Split(", ");
        Assert.All(files, f => Assert.StartsWith(pod.Policies.Path + "/", f, StringComparison.Ordinal));

        using var liveness = await pod.Gateway.Client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, liveness.StatusCode);
        // Metrics answer on their own port only.
        using var metrics = new HttpClient { BaseAddress = pod.Metrics };
        using var scrape = await metrics.GetAsync("/metrics");
        using var onApiPort = await pod.Gateway.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, onApiPort.StatusCode);
    }

    [Fact]
    public async Task DefaultValues_ServeTheDemoUpstream()
    {
        await using var pod = await ChartPod.StartAsync(await HelmChart.TemplateAsync(), _directory);

        using var response = await pod.Gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"@cf/meta/llama-2-7b-chat-fp16","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.False(string.IsNullOrEmpty(body.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()));
    }

    [Fact]
    public async Task ScaleOut_ApiKeyHashesFromTheSecret_AuthenticateTheirTenants()
    {
        var chart = await HelmChart.TemplateAsync("-f", HelmChart.Example("values-scale-out.yaml"));
        await using var pod = await ChartPod.StartAsync(chart, _directory);

        Assert.Equal(HttpStatusCode.Unauthorized, await ModelsAsync(pod, "not-a-configured-key"));
        Assert.Equal(HttpStatusCode.OK, await ModelsAsync(pod, ChartPod.ApiKeyFor("team-a")));
        Assert.Equal(HttpStatusCode.OK, await ModelsAsync(pod, ChartPod.ApiKeyFor("team-b")));
        // The tenant's own policy from the chart's second file applies to it.
        var store = pod.Gateway.Services.GetRequiredService<PolicyStore>();
        Assert.Equal("team-a", store.Select("openai-chat", "@cf/meta/llama-2-7b-chat-fp16", "team-a").Name);
    }

    [Fact]
    public async Task PolicyChange_RollsNoPod_AndTheGatewayReloadsTheSwappedConfigMap()
    {
        var before = await HelmChart.TemplateAsync();
        var upgrade = Path.Combine(_directory, "upgrade-values.yaml");
        await File.WriteAllTextAsync(upgrade, """
            policies:
              files:
                default.yaml: |
                  policies:
                    - name: default
                      prompt: { check: false }
                      response: { check: false }
                    - name: team-a
                      match: { tenants: [team-a] }
                      prompt: { check: false }
                      response: { check: false }
            """);
        var after = await HelmChart.TemplateAsync("-f", upgrade);
        // Same file names, same configuration file, same pod template: an upgrade changes only the ConfigMap.
        Assert.Equal(before.AppSettings.ToJsonString(), after.AppSettings.ToJsonString());
        Assert.Equal(before.Get("Deployment", HelmChart.FullName).Body.ToJsonString(), after.Get("Deployment", HelmChart.FullName).Body.ToJsonString());

        await using var pod = await ChartPod.StartAsync(before, _directory);
        var store = pod.Gateway.Services.GetRequiredService<PolicyStore>();
        Assert.Equal(new[] { "default" }, store.Current.Policies.Select(p => p.Name));

        pod.Policies.Update(ChartPod.DataOf(after.Get("ConfigMap", HelmChart.FullName + "-policies")));

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (store.Current.Policies.Count != 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.Equal(new[] { "default", "team-a" }, store.Current.Policies.Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("team-a", store.Select("openai-chat", "@cf/meta/llama-2-7b-chat-fp16", "team-a").Name);
        var policies = (await pod.ReadyAsync()).GetProperty("checks").GetProperty("policies");
        Assert.Equal("Healthy", policies.GetProperty("status").GetString());
        Assert.True(policies.GetProperty("data").GetProperty("reloads").GetInt32() >= 1);
    }

    private static async Task<HttpStatusCode> ModelsAsync(ChartPod pod, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await pod.Gateway.Client.SendAsync(request);
        return response.StatusCode;
    }
}
