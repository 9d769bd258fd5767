using Herald;

namespace Registration;

/// <summary>A user signed up. Email, points and risk react to it without knowing of each other.</summary>
[Topic("user.created")]
public sealed record UserCreated(long Id, string Email, DateTimeOffset CreatedAt);
