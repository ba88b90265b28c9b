import AxeBuilder from '@axe-core/playwright';
import { expect, test } from './fixtures.ts';

// axe finds the contrast and labelling mistakes that eyes miss (UI.md).
const SECTIONS = ['Chat', 'Documents', 'Models', 'Bundles', 'Audit', 'Settings', 'About'] as const;

for (const theme of ['light', 'dark'] as const) {
  test(`every section passes axe in the ${theme} theme`, async ({ app }) => {
    const { page } = app;
    await page.emulateMedia({ colorScheme: theme });
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    for (const section of SECTIONS) {
      await page.getByRole('navigation').getByRole('button', { name: section }).click();
      if (section === 'About') {
        await page.getByRole('button', { name: 'Run checks' }).click();
        await expect(page.getByTestId('checks-summary')).not.toBeEmpty();
      }
      const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
      const violations = results.violations.map(
        (violation) => `${section}: ${violation.id} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`,
      );
      expect(violations).toEqual([]);
    }
  });
}
