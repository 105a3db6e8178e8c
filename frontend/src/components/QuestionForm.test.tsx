import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { experts } from '../test/fixtures';
import { renderPage } from '../test/render';
import { QuestionForm } from './QuestionForm';

function setup(props: Partial<Parameters<typeof QuestionForm>[0]> = {}) {
  const onAsk = vi.fn();
  const utils = renderPage(
    <QuestionForm
      experts={{ state: 'ready', experts }}
      onReloadExperts={() => undefined}
      running={false}
      fieldErrors={[]}
      onAsk={onAsk}
      onCancel={() => undefined}
      {...props}
    />,
  );
  return { onAsk, ...utils };
}

describe('QuestionForm', () => {
  it('counts the characters as you type and says when the question is too short', async () => {
    setup();
    const box = screen.getByRole('textbox', { name: 'Your question' });
    const counter = document.querySelector('[data-counter]')!;
    expect(counter).toHaveTextContent('0 / 1000');
    await userEvent.type(box, 'ab');
    expect(counter).toHaveTextContent('at least 3 characters');
    expect(counter).toHaveTextContent('2 / 1000');
    await userEvent.type(box, 'c 🙂');
    expect(counter).toHaveTextContent('5 / 1000'); // an emoji is one character, as the server counts
    expect(counter).not.toHaveTextContent('at least');
    expect(box).toHaveAttribute('maxlength', '1000');
  });

  it('asks all experts, with comment groups, by default; only what is chosen otherwise', async () => {
    const { onAsk } = setup();
    const boxes = screen.getAllByRole('checkbox', { name: /posts/ });
    expect(boxes).toHaveLength(2);
    boxes.forEach((box) => expect(box).toBeChecked());
    await userEvent.type(screen.getByRole('textbox'), 'How to back up?');
    await userEvent.click(screen.getByRole('button', { name: 'Ask' }));
    expect(onAsk).toHaveBeenLastCalledWith({
      query: 'How to back up?',
      expert_filter: null,
      include_comments: true,
      include_comment_groups: true,
      moderator: true,
    });
    await userEvent.click(screen.getByRole('checkbox', { name: /Архитектор ИИ/ }));
    await userEvent.click(screen.getByRole('checkbox', { name: /comment groups/ }));
    await userEvent.click(screen.getByRole('button', { name: 'Ask' }));
    expect(onAsk).toHaveBeenLastCalledWith(expect.objectContaining({ expert_filter: ['selfhost_ops'], include_comment_groups: false }));
  });

  it('asks for every post by default, and for the last 3, 6 or 12 months when switched', async () => {
    const { onAsk } = setup();
    const recent = screen.getByRole('group', { name: 'Posts from' });
    const choices = within(recent).getAllByRole('radio');
    expect(choices.map((c) => c.closest('label')!.textContent)).toEqual([
      'All time',
      'Last 3 months',
      'Last 6 months',
      'Last 12 months',
    ]);
    expect(within(recent).getByRole('radio', { name: 'All time' })).toBeChecked();
    await userEvent.type(screen.getByRole('textbox'), 'How to back up?');
    await userEvent.click(screen.getByRole('button', { name: 'Ask' }));
    expect(onAsk.mock.lastCall![0]).not.toHaveProperty('recent_months');
    for (const months of [3, 6, 12]) {
      await userEvent.click(within(recent).getByRole('radio', { name: `Last ${months} months` }));
      await userEvent.click(screen.getByRole('button', { name: 'Ask' }));
      expect(onAsk).toHaveBeenLastCalledWith(expect.objectContaining({ recent_months: months }));
    }
    await userEvent.click(within(recent).getByRole('radio', { name: 'All time' }));
    await userEvent.click(screen.getByRole('button', { name: 'Ask' }));
    expect(onAsk.mock.lastCall![0]).not.toHaveProperty('recent_months');
  });

  it('names the windows in Russian', () => {
    renderPage(
      <QuestionForm
        experts={{ state: 'ready', experts }}
        onReloadExperts={() => undefined}
        running={false}
        fieldErrors={[]}
        onAsk={() => undefined}
        onCancel={() => undefined}
      />,
      { lang: 'ru' },
    );
    const recent = screen.getByRole('group', { name: 'Посты за какой срок' });
    expect(within(recent).getAllByRole('radio').map((c) => c.closest('label')!.textContent)).toEqual([
      'За всё время',
      'За 3 месяца',
      'За 6 месяцев',
      'За 12 месяцев',
    ]);
  });

  it('shows the server’s reason about recent_months beside the switch', () => {
    setup({ fieldErrors: [{ field: 'recent_months', message: 'Input should be less than or equal to 120' }] });
    const recent = screen.getByRole('group', { name: 'Posts from' });
    expect(recent).toHaveAccessibleDescription(/The server refused it: Input should be less than or equal to 120/);
  });

  it('asks for the moderator by default, with a switch to turn it off', async () => {
    const { onAsk } = setup();
    const moderator = screen.getByRole('switch', { name: /Moderator/ });
    expect(moderator).toBeChecked();
    await userEvent.type(screen.getByRole('textbox'), 'How to back up?');
    await userEvent.click(moderator);
    expect(moderator).not.toBeChecked();
    await userEvent.click(screen.getByRole('button', { name: 'Ask' }));
    expect(onAsk).toHaveBeenLastCalledWith(expect.objectContaining({ moderator: false }));
  });

  it('sends a too-short question anyway: the server decides', async () => {
    const { onAsk } = setup();
    await userEvent.type(screen.getByRole('textbox'), 'ab{Control>}{Enter}{/Control}');
    expect(onAsk).toHaveBeenCalledWith(expect.objectContaining({ query: 'ab' }));
  });

  it('shows the server’s 422 reasons beside the field they are about', () => {
    setup({
      fieldErrors: [
        { field: 'query', message: 'String should have at least 3 characters' },
        { field: 'expert_filter', message: 'name at least one expert, or leave expert_filter out' },
      ],
    });
    const box = screen.getByRole('textbox', { name: 'Your question' });
    expect(box).toHaveAttribute('aria-invalid', 'true');
    expect(box).toHaveAccessibleDescription(/The server refused it: String should have at least 3 characters/);
    const experts = screen.getByRole('group', { name: 'Experts' });
    expect(experts).toHaveAccessibleDescription(/name at least one expert/);
  });

  it('offers Cancel only while a query runs', () => {
    const onCancel = vi.fn();
    const { rerender } = setup({ onCancel });
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeDisabled();
    rerender(
      <QuestionForm
        experts={{ state: 'ready', experts }}
        onReloadExperts={() => undefined}
        running
        fieldErrors={[]}
        onAsk={() => undefined}
        onCancel={onCancel}
      />,
    );
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeEnabled();
    expect(screen.getByRole('button', { name: 'Ask' })).toBeDisabled();
  });

  it('says when the experts could not be loaded, with a way to try again', async () => {
    const onReloadExperts = vi.fn();
    setup({ experts: { state: 'error', message: 'The server cannot be reached.' }, onReloadExperts });
    expect(screen.getByRole('alert')).toHaveTextContent('The server cannot be reached.');
    await userEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(onReloadExperts).toHaveBeenCalled();
  });
});
