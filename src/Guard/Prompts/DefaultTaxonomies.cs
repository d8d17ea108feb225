namespace Guard.Prompts;

/// <summary>The categories each Llama Guard generation was trained with, verbatim from its chat template.</summary>
internal static class DefaultTaxonomies
{
    /// <summary>Llama Guard 1 (LlamaGuard-7b): O1..O6 with their policy texts.</summary>
    public static readonly GuardCategory[] LlamaGuard1 =
    [
        new("O1", "Violence and Hate", """
            Should not
            - Help people plan or engage in violence.
            - Encourage people to engage in violence.
            - Express hateful, derogatory, or demeaning sentiments against people based on sensitive personal characteristics like their race, color, religion, national origin, sexual orientation, gender, gender identity, or disability.
            - Encourage discrimination against people based on those characteristics and should not use slurs or create insults based on those characteristics.
            Can
            - Provide information on violence and discrimination.
            - Discuss the topics of hate and violence, and can discuss historical events involving violence.
            """)
        {
            // The template writes a space after this one heading; it is part of the trained format.
            Heading = "Violence and Hate. ",
        },
        new("O2", "Sexual Content", """
            Should not
            - Engage in sexually explicit (i.e., erotic) conversations and should not encourage people to engage in sexual activities.
            Can
            - Discuss topics related to sexuality and sexual education.
            - Provide general information regarding sexual activities.
            - Provide guidance on topics related to sexual health.
            """),
        new("O3", "Criminal Planning", """
            Should not
            - Help people plan or engage in criminal activities like theft, kidnapping, or financial crimes, especially when the person indicates that they may act on the information provided to them.
            - Encourage people to engage in criminal activities or condone criminal behavior.
            Can
            - Help people understand how crimes are committed, provided that the response is not so detailed that it could be used to provide a roadmap for future crimes.
            - Help people understand how systems work that are used to prevent crimes, provided those descriptions do not provide detailed information on how to defeat those systems.
            """),
        new("O4", "Guns and Illegal Weapons", """
            Should not
            - Assist in the planning or execution of firearm or illegal weapons crimes, especially when the person indicates that they may act on the information provided to them.
            - Encourage people to engage in firearm or illegal weapons crimes or condone such behavior.
            Can
            - Discuss firearms and the arguments for and against firearm ownership.
            """),
        new("O5", "Regulated or Controlled Substances", """
            Should not
            - Encourage or assist people in the trafficking, consumption, or use of regulated or controlled substances, including but not limited to illegal drugs, tobacco, alcohol, and cannabis.
            - Assist or encourage people to create such substances when it is illegal to do so.
            Can
            - Discuss the use of regulated or controlled substances, and can provide general information on those substances (ex: what their chemical composition is and what their effects are).
            - Provide information on how those substances are manufactured, provided that the information is not so detailed as to provide step-by-step instructions for their creation.
            """),
        new("O6", "Self-Harm", """
            Should not
            - Encourage people to harm themselves.
            - Romanticize or condone self-harm or suicide.
            - Provide information regarding the methods of suicide or self-harm.
            - Provide any information or advice, other than information regarding appropriate health resources, to people who express or imply that they wish to harm themselves.
            Can
            - Provide general information regarding self-harm and suicide (ex: statistics, the mental health challenges faced by those who take these actions).
            Should
            - Provide information regarding appropriate health resources to people who imply or express the desire to harm themselves.
            """),
    ];

    /// <summary>Llama Guard 2 (Meta-Llama-Guard-2-8B): S1..S11, names only.</summary>
    public static readonly GuardCategory[] LlamaGuard2 =
    [
        new("S1", "Violent Crimes", ""),
        new("S2", "Non-Violent Crimes", ""),
        new("S3", "Sex Crimes", ""),
        new("S4", "Child Exploitation", ""),
        new("S5", "Specialized Advice", ""),
        new("S6", "Privacy", ""),
        new("S7", "Intellectual Property", ""),
        new("S8", "Indiscriminate Weapons", ""),
        new("S9", "Hate", ""),
        new("S10", "Self-Harm", ""),
        new("S11", "Sexual Content", ""),
    ];

    /// <summary>Llama Guard 3 (Llama-Guard-3-8B): S1..S14, names only.</summary>
    public static readonly GuardCategory[] LlamaGuard3 =
    [
        new("S1", "Violent Crimes", ""),
        new("S2", "Non-Violent Crimes", ""),
        new("S3", "Sex Crimes", ""),
        new("S4", "Child Exploitation", ""),
        new("S5", "Defamation", ""),
        new("S6", "Specialized Advice", ""),
        new("S7", "Privacy", ""),
        new("S8", "Intellectual Property", ""),
        new("S9", "Indiscriminate Weapons", ""),
        new("S10", "Hate", ""),
        new("S11", "Self-Harm", ""),
        new("S12", "Sexual Content", ""),
        new("S13", "Elections", ""),
        new("S14", "Code Interpreter Abuse", ""),
    ];
}
