using System.Text.Json;
using System.Text.Json.Serialization;

namespace Registration;

/// <summary>The sample's event types for System.Text.Json's source generator (web defaults, as Herald's JSON): no reflection.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(UserCreated))]
internal sealed partial class RegistrationJson : JsonSerializerContext;
