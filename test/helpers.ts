import { App, Stack, StackProps, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/** Context every test app uses: aws-cdk's CloudFormation validation turns findings into synthesis errors. */
export const TEST_CONTEXT = {
  '@aws-cdk/core:validateAgainstDefaultRules': true,
};

/** A fresh app with the project's feature flags, and an environment-agnostic (or given) stack in it. */
export function newStack(props: StackProps = {}, id = 'TestStack'): { app: App; stack: Stack } {
  const app = new App({ context: TEST_CONTEXT });
  const stack = new Stack(app, id, props);
  return { app, stack };
}

/** Synthesizes the stack's app (running CloudFormation validation) and returns the stack's template. */
export function synthTemplate(stack: Stack): Template {
  return Template.fromStack(stack);
}

/** Every cdk-nag acknowledgement recorded in the stack (`Validations.of(x).acknowledge`), as rule id -> reason. */
export function acknowledgements(stack: Stack): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of stack.node.findAll()) {
    for (const m of c.node.metadata) {
      if (m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
        for (const [id, reason] of Object.entries(m.data as Record<string, string>)) out[id.replace(/^annotation::/i, '')] = reason;
      }
    }
  }
  return out;
}
