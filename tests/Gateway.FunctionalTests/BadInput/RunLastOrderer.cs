using Xunit.Abstractions;
using Xunit.Sdk;

namespace Gateway.FunctionalTests.BadInput;

/// <summary>Marks a test that must run after every other test of its class.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RunLastAttribute : Attribute;

/// <summary>Keeps xUnit's order within a class, except that <see cref="RunLastAttribute"/> tests come last.</summary>
public sealed class RunLastOrderer : ITestCaseOrderer
{
    public const string TypeName = "Gateway.FunctionalTests.BadInput.RunLastOrderer";
    public const string AssemblyName = "Gateway.FunctionalTests";

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases.OrderBy(t => t.TestMethod.Method.GetCustomAttributes(typeof(RunLastAttribute).AssemblyQualifiedName).Any() ? 1 : 0);
}
